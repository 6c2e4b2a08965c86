# Solution to notebook 09's exercise: a Retry that gives up too soon
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)


def retry_waits(rule):
    """The seconds Step Functions waits before each retry under `rule`, in order."""
    interval = rule.get("IntervalSeconds", 1)
    backoff = rule.get("BackoffRate", 2.0)
    cap = rule.get("MaxDelaySeconds")
    waits = []
    for retry in range(rule.get("MaxAttempts", 3)):
        wait = interval * backoff**retry
        waits.append(wait if cap is None else min(wait, cap))
    return waits


# The colleague's rule waits [1, 2, 2]: the third wait would be 1 x 3 x 3 = 9 s, but
# MaxDelaySeconds cuts it to 2. Four attempts over 5 s, where the kit's rule makes five
# over 15 s: a restart of the inbox that takes 6 s fails the execution. A larger
# BackoffRate does not help when a cap flattens it; to outlast a longer outage, add
# attempts or raise the cap.
check_retry_waits(settings, retry_waits)
