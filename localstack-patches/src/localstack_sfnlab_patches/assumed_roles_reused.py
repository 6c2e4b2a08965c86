"""LocalStack's services reuse a role's session for a while, not one session for every call.

LocalStack 4.14.0 has its services act as a role, as AWS's do: Step Functions invokes a
task's Lambda as the state machine's role, Lambda writes a function's logs as its role.
Each time it asks STS (through its own gateway) for a new session of the role, and so
builds a new AWS client for the new credentials: for every Lambda task of every
execution, and for every function's logs. That was a third of what grading a solution
cost LocalStack.

This keeps what `with_assumed_role` gives (the session's credentials, ready to make
clients with) for REUSE_SECONDS, a quarter of the hour STS makes the session last, per
role, service, region, endpoint and client settings, MAX_SESSIONS at most, the least
recently used dropped first; LocalStack then reuses the clients it made for those
credentials, as it does for its other clients. A session asked for by name is never
reused. Nothing else changes: every call is made as the role it names, in the role's
account, with credentials that are valid.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

CONNECT = "localstack.aws.connect"
REUSE_SECONDS = 15 * 60  # STS's sessions last an hour unless asked otherwise
MAX_SESSIONS = 256


class Sessions:
    """Assumed-role sessions by what they were asked for: bounded, expiring, thread-safe."""

    def __init__(self, size: int = MAX_SESSIONS, seconds: float = REUSE_SECONDS) -> None:
        self.size, self.seconds = size, seconds
        self._sessions: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            found = self._sessions.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._sessions[key]
                return None
            self._sessions.move_to_end(key)
            return found[1]

    def put(self, key: tuple, session: Any) -> None:
        with self._lock:
            self._sessions[key] = (time.monotonic() + self.seconds, session)
            self._sessions.move_to_end(key)
            while len(self._sessions) > self.size:
                self._sessions.popitem(last=False)


SESSIONS = Sessions()


def reuse_session(
    original: Any,
    factory: Any,
    *,
    role_arn: str,
    service_principal: Any = None,
    session_name: str | None = None,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    config: Any = None,
) -> Any:
    arguments = {
        "role_arn": role_arn,
        "service_principal": service_principal,
        "session_name": session_name,
        "region_name": region_name,
        "endpoint_url": endpoint_url,
        "config": config,
    }
    key = (factory, role_arn, service_principal, region_name, endpoint_url, config)
    try:
        hash(key)
    except TypeError:
        key = None
    if session_name is not None or key is None:
        return original(factory, **arguments)
    session = SESSIONS.get(key)
    if session is None:
        session = original(factory, **arguments)
        SESSIONS.put(key, session)
    return session


def patch_connect(module: Any) -> None:
    from localstack.utils.patch import Patch

    Patch.function(module.ClientFactory.with_assumed_role, reuse_session).apply()


def apply() -> None:
    when_imported(CONNECT, patch_connect)
