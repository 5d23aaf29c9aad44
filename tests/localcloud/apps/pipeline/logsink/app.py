import base64
import gzip
import json


def handler(event, context):
    document = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    print("PAYLOAD " + json.dumps(document))
