from payload_tools import extended


def lambda_handler(event, context):
    branch = "fix/" + event["issue"]["id"].lower()
    return extended(event, "git", {"created": branch}, branch=branch)
