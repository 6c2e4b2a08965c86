from payload_tools import extended


def lambda_handler(event, context):
    code = {"commit": "abc123def456", "author": "me"}
    return extended(event, "code", {"code": code}, code=code)
