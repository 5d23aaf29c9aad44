import os
import time

COLD_PID = os.getpid()


def handler(event, context):
    seconds = float((event.get("queryStringParameters") or {}).get("sleep", "0"))
    print(f"sleeping {seconds}")
    time.sleep(seconds)
    return {"statusCode": 200, "body": str(COLD_PID)}
