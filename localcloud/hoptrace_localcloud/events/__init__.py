"""Event shapes exactly as AWS services hand them to Lambda functions, one module per service."""
