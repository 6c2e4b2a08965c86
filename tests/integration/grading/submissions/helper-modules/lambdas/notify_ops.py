from payload_tools import extended


def lambda_handler(event, context):
    return extended(event, "ops", {"deploy": event["release"]["name"]})
