def handler(event, context):
    print(f"ATTEMPT {event.get('n')}")
    raise RuntimeError(f"cannot handle {event.get('n')}")
