from payload_tools import extended


def lambda_handler(event, context):
    release = {"name": "v" + event["issue"]["id"].split("-")[-1]}
    return extended(event, "releases", {"release": release}, release=release)
