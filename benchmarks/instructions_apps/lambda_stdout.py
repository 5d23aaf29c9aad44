"""`sys.stdout` as Lambda's Python runtime leaves it, for the harness and the layer's tests to run behind.

awslambdaric's bootstrap wraps the process's text stream in a class named `Unbuffered` that flushes it
after every write and hands every other attribute through; the layer recognises it by that shape
(`hoptrace.export`). Nothing here imports anything, so a harness or a fresh interpreter can take it.
"""


class Unbuffered:
    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)
