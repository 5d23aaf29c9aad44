def handler(event, context):
    for record in event["Records"]:
        print("GOT " + record["body"])
    return {}
