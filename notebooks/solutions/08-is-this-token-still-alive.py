# Solution to notebook 08's exercise: is this token still alive?
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)


def is_alive(token):
    """True if `token` can still decide its task; found out without deciding anything."""
    try:
        sfn.send_task_heartbeat(taskToken=token)  # a sign of life decides nothing
    except (
        sfn.exceptions.TaskTimedOut,  # its task is over
        sfn.exceptions.InvalidToken,  # never issued
        sfn.exceptions.ValidationException,  # cannot be a token
    ):
        return False
    return True


# A heartbeat is the one call with a token that decides nothing. Step Functions accepts it
# while the token's task waits, whether or not the task sets HeartbeatSeconds, and refuses
# it, exactly as it would refuse a decision, once the token can no longer decide. Catch
# those three refusals only: any other error (LocalStack not answering, say) tells you
# nothing about the token. On a task with HeartbeatSeconds it also restarts the clock.
check_is_alive(settings, is_alive)
