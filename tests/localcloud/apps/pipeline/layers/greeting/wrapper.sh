#!/bin/sh
# An exec wrapper as Lambda runs it: change the environment, then exec the runtime command.
export ORIGINAL_HANDLER="$_HANDLER"
export _HANDLER="greeting_layer.wrapped_handler"
exec "$@"
