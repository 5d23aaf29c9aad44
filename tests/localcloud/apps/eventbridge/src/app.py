import json


def audit(event, context):
    print("AUDIT " + json.dumps({"source": event["source"], "detail": event["detail"]}, sort_keys=True))
