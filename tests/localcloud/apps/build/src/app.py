import fromfunction
import fromlayer


def handler(event, context):
    return {"function": fromfunction.NAME, "layer": fromlayer.NAME}
