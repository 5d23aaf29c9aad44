"""A layer module: importable only because the layer's python/ directory is on the path."""
import importlib
import os

ORIGINAL = os.environ.get("ORIGINAL_HANDLER", "")


def wrapped_handler(event, context):
    module_name, _, function_name = ORIGINAL.rpartition(".")
    original = getattr(importlib.import_module(module_name), function_name)
    return {"wrapped": True, "handler_seen": os.environ["_HANDLER"], "result": original(event, context)}
