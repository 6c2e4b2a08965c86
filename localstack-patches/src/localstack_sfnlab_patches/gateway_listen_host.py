"""The gateway listens on the IPv4 address GATEWAY_LISTEN names, not on every interface.

LocalStack 4.14.0's Twisted server (`TwistedRuntimeServer.register`) passes the host of
each IPv6 entry of GATEWAY_LISTEN to its endpoint but drops it for IPv4, so
`GATEWAY_LISTEN=127.0.0.1:4566` listens on 0.0.0.0:4566, reachable from the network.
This patch hands each IPv4 endpoint the host it was configured with; everything else
(IPv6 entries, TLS, an explicit 0.0.0.0) is exactly as before.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

SERVER_MODULE = "localstack.runtime.server.twisted"


class InterfaceBoundEndpoints:
    """Twisted's `endpoints` module as `register` sees it while it runs.

    `register` creates one TCP4ServerEndpoint per IPv4 entry of `listen`, in order; each
    gets that entry's host as its interface.
    """

    def __init__(self, endpoints: ModuleType, ipv4_listen: list[Any]) -> None:
        self._endpoints = endpoints
        self._pending = list(ipv4_listen)

    def TCP4ServerEndpoint(self, reactor: Any, port: int, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (Twisted's name)
        entry = self._pending.pop(0)
        if entry.port != port:
            raise RuntimeError(f"gateway endpoint for port {port} does not match {entry}")
        kwargs.setdefault("interface", entry.host)
        return self._endpoints.TCP4ServerEndpoint(reactor, port, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoints, name)


def patch_server(module: ModuleType) -> None:
    from localstack import config
    from localstack.utils.patch import Patch

    def register(original, self, gateway, listen, ssl_creds=None):
        ipv4 = [entry for entry in listen if not config.is_ipv6_address(entry.host)]
        bound = InterfaceBoundEndpoints(module.endpoints, ipv4)
        with Patch(module, "endpoints", bound):
            return original(self, gateway, listen, ssl_creds)

    Patch.function(module.TwistedRuntimeServer.register, register).apply()


def apply() -> None:
    when_imported(SERVER_MODULE, patch_server)
