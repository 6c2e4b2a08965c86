"""Ports and hosts: is a port free, does something listen, is a host loopback."""

from __future__ import annotations

import errno
import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port the system has just found free on `host` (for a server of the kit's own)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_near(host: str, port: int, avoid: int) -> int | None:
    """A port after `port` that nothing holds, other than `avoid` (the other service's)."""
    for candidate in range(port + 1, min(port + 200, 65536)):
        if candidate != avoid and port_is_free(host, candidate):
            return candidate
    return None


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on (host, port) right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe_socket:
        # As servers do: a connection lingering in TIME_WAIT does not hold the port.
        probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe_socket.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts_connections(host: str, port: int) -> bool:
    """Whether something listens on (host, port): a TCP connection succeeds."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
