def original_handler(event, context):
    return {"original": True, "event": event}
