"""LocalStack's internal clients keep no idle connection to LocalStack's own port.

LocalStack's services call each other through its gateway with boto3 clients that it
caches (up to 256). Clients made with a role's temporary credentials, as Step Functions
makes one for each Lambda task, are used once or a few times, yet each kept its
connection open until the client fell out of the cache: two descriptors in LocalStack
per connection, about 750 descriptors after 100 executions of the exercise, a leak
while the cache fills and too many under a desktop's limit of 1,024 open files. With this
patch an internal client closes its idle connections after each call; a connection to
the loopback gateway is cheap to open again.
"""

from __future__ import annotations

from localstack.aws.connect import InternalClientFactory


def close_idle_connections(client) -> None:
    client._endpoint.http_session.close()


def apply() -> None:
    original = InternalClientFactory._get_client_post_hook

    def _get_client_post_hook(self: InternalClientFactory, client):
        client = original(self, client)
        for event in ("after-call.*.*", "after-call-error.*.*"):
            client.meta.events.register(event, lambda **kwargs: close_idle_connections(client))
        return client

    InternalClientFactory._get_client_post_hook = _get_client_post_hook
