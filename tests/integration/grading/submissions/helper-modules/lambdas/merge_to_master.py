from payload_tools import extended


def lambda_handler(event, context):
    return extended(event, "git", {"merged": event["branch"]}, merged=True)
