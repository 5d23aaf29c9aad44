def handler(event, context):
    print(f"TICK {event['detail-type']} {event['source']}")
