def lambda_handler(event, context):
    raise ValueError("not today")
