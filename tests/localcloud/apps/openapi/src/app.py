import json


def echo(event, context):
    print("ECHO " + json.dumps({"authorizer": event["requestContext"].get("authorizer"),
                                "body": event.get("body"), "base64": event.get("isBase64Encoded")}))
    return {"statusCode": 200, "body": json.dumps({"authorizer": event["requestContext"].get("authorizer"),
                                                   "body": event.get("body"),
                                                   "isBase64Encoded": event.get("isBase64Encoded")})}


def authorize(event, context):
    token = event["authorizationToken"]
    if token == "bad":
        raise Exception("Unauthorized")
    effect = "Allow" if token == "allow" else "Deny"
    return {"principalId": "user-1", "context": {"tier": "gold"},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
