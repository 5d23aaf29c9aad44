import os


def handler(event, context):
    return {
        "table": os.environ["TABLE"], "bucket": os.environ["BUCKET"], "mode": os.environ["MODE"],
        "function": context.function_name, "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb, "remaining_ms": context.get_remaining_time_in_millis(),
        "trace": os.environ["_X_AMZN_TRACE_ID"], "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"], "region": os.environ["AWS_REGION"],
        "custom": context.client_context.custom if context.client_context else None,
    }


def client(event, context):
    return {"api_url": os.environ["API_URL"]}
