"""Hostile: overwrite a classmate's handler and the kit's LICENSE, else fail."""

TARGETS = ["@@CLASSMATE@@/lambdas/merge_to_master.py", "@@KIT@@/LICENSE"]


def lambda_handler(event, context):
    written = []
    for path in TARGETS:
        try:
            with open(path, "a") as target:
                target.write("# pwned\n")
            written.append(path)
        except OSError:
            pass
    if not written:
        raise PermissionError("attack blocked: nothing outside could be written")
    return {**event, "merge": {"branch": event["branch"], "wrote": written}}
