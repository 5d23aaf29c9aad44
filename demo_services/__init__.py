"""The demo shop: plain Lambda handlers (one folder per service) and the SAM template that wires them.

A package only so that the shop ships inside the hoptrace wheel (`hoptrace demo` stages a copy of it
per run); the handlers themselves never import it, nor hoptrace.
"""
