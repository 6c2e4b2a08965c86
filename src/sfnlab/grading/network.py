"""A network of its own for the grading stack: learners' code reaches only what grading started.

On Linux the grading LocalStack runs in a network namespace of its own, which holds only
a loopback interface: the sandboxes it starts for learners' Lambdas are in there with it,
and so is the grader's capture endpoint (its listening socket is made in there). Nothing
of the machine is in reach from inside: not its loopback services (the instructor's own
LocalStack and inbox, a database, a notebook server), not its other interfaces, not the
internet; abstract Unix sockets are per namespace too.

bubblewrap makes the namespace and brings its loopback up (as root directly; as another
user inside a user namespace of its own, where the system allows those), with a small
process of the kit's in it, `network_keeper.py`. The grader itself stays outside: the
keeper hands it listening sockets made inside, and carries the grader's connections from
a port on the machine's loopback to the grading LocalStack's gateway, which is the only
way in. LocalStack is started inside with util-linux's `nsenter`.

Where none of that works (macOS, a container that forbids namespaces, no bubblewrap),
`start` raises `Unavailable` with the reason, and grading goes on as before.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from localstack_process_executor.sandbox import find_bwrap

KEEPER = Path(__file__).with_name("network_keeper.py")
START_TIMEOUT = 30.0  # seconds for bubblewrap and the keeper to report (about 0.05 s here)
MESSAGE = 4096

AUTO, ISOLATED, SHARED = "auto", "isolated", "shared"  # SFNLAB_GRADING_NETWORK
PLATFORM = sys.platform  # read once; a test sets another to see what macOS gets


class Unavailable(Exception):
    """A network namespace cannot be made here; the message says why."""


def own_namespace(kind: str) -> str:
    return os.readlink(f"/proc/self/ns/{kind}")


class GradingNetwork:
    """The namespace, held by its keeper process, and the grader's requests to it."""

    def __init__(
        self,
        keeper: subprocess.Popen,
        control: socket.socket,
        namespaces: list[int],
        keeper_pid: int,
        nsenter: str,
    ) -> None:
        self._keeper = keeper  # bubblewrap, whose child the keeper is
        self._control = control
        self._lock = threading.Lock()  # one request at a time on the control socket
        self.net_fd, self.user_fd = namespaces
        self.keeper_pid = keeper_pid
        self.nsenter = nsenter
        net, user = namespaces
        self.namespace = os.readlink(f"/proc/self/fd/{net}")  # net:[inode], as /proc shows it
        # Its own user namespace when bubblewrap made one (not as root): entering the
        # network then means entering that first.
        self.own_user_namespace = os.readlink(f"/proc/self/fd/{user}") != own_namespace("user")

    @classmethod
    def start(cls) -> GradingNetwork:
        """Make the namespace; raises `Unavailable` with the reason where that fails."""
        if not PLATFORM.startswith("linux"):
            raise Unavailable(f"network namespaces exist on Linux only (this is {PLATFORM})")
        bwrap = find_bwrap()
        if bwrap is None:
            raise Unavailable("bubblewrap (bwrap) is not installed")
        nsenter = shutil.which("nsenter")
        if nsenter is None:
            raise Unavailable("util-linux's nsenter is not installed")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        keeper_command = [sys.executable, "-I", "-S", str(KEEPER), str(theirs.fileno())]
        command = [bwrap, "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent"]
        # Its errors go to a file, not a pipe nobody reads while it runs: a full pipe
        # would stop it.
        with tempfile.TemporaryFile() as errors:
            with theirs:  # the keeper's end only: when the keeper goes, `ours` reads the end
                try:
                    keeper = subprocess.Popen(
                        [*command, "--", *keeper_command],
                        pass_fds=[theirs.fileno()],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=errors,
                    )
                except OSError as e:
                    ours.close()
                    raise Unavailable(f"bubblewrap could not be started: {e}") from None
            return cls.handshake(keeper, ours, errors, nsenter)

    @classmethod
    def handshake(
        cls, keeper: subprocess.Popen, ours: socket.socket, errors: IO[bytes], nsenter: str
    ) -> GradingNetwork:
        """The network, once its keeper has said it is ready in there."""
        ours.settimeout(START_TIMEOUT)
        try:
            message, fds, _, _ = socket.recv_fds(ours, MESSAGE, 2)
        except OSError:
            message, fds = b"", []
        if not message or len(fds) != 2:
            ours.close()
            for fd in fds:
                os.close(fd)
            said = failure(keeper, errors)
            raise Unavailable(said or "bubblewrap could not make a network namespace")
        hello = json.loads(message)
        ours.settimeout(None)
        network = cls(keeper, ours, fds, int(hello["pid"]), nsenter)
        if hello.get("problem"):
            network.close()
            raise Unavailable(hello["problem"])
        return network

    def enter(self, command: list[str]) -> list[str]:
        """`command`, run inside the namespace (the file descriptors in `pass_fds` go with it)."""
        prefix = [self.nsenter]
        if self.own_user_namespace:
            prefix += [f"--user=/proc/self/fd/{self.user_fd}", "--preserve-credentials"]
        return [*prefix, f"--net=/proc/self/fd/{self.net_fd}", "--", *command]

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self.net_fd, self.user_fd)

    def listener(self, port: int = 0) -> socket.socket:
        """A TCP socket listening on 127.0.0.1 inside (any free port unless `port`)."""
        return socket.socket(fileno=self._ask({"op": "listen", "port": port})[1][0])

    def forward(self) -> int:
        """A port on the machine's loopback whose connections the keeper carries to the same
        port inside; that port is free inside (nothing runs there but what grading starts)."""
        with socket.create_server(("127.0.0.1", 0), backlog=128) as outside:
            port = outside.getsockname()[1]
            self._ask({"op": "forward", "port": port}, outside.fileno())
        return port

    def _ask(self, request: dict, fd: int | None = None) -> tuple[dict, list[int]]:
        with self._lock:
            socket.send_fds(
                self._control, [json.dumps(request).encode()], [] if fd is None else [fd]
            )
            message, fds, _, _ = socket.recv_fds(self._control, MESSAGE, 1)
        if not message:
            raise OSError("the grading network's keeper has exited")
        reply = json.loads(message)
        if "error" in reply:
            raise OSError(f"the grading network's keeper: {reply['error']}")
        return reply, fds

    def close(self) -> None:
        """End the keeper; the namespace goes once nothing runs in it any more."""
        self._control.close()
        for fd in (self.net_fd, self.user_fd):
            os.close(fd)
        try:
            self._keeper.wait(5)
        except subprocess.TimeoutExpired:
            self._keeper.kill()
            self._keeper.wait()


_networks: dict[str, GradingNetwork] = {}  # a grading LocalStack's endpoint -> its network


def register(endpoint: str, network: GradingNetwork | None) -> None:
    """Remember (None: forget) the network of the grading LocalStack at `endpoint`."""
    if network is None:
        _networks.pop(endpoint, None)
    else:
        _networks[endpoint] = network


def network_of(endpoint: str) -> GradingNetwork | None:
    """The network of the grading LocalStack at `endpoint`, if it has one of its own."""
    return _networks.get(endpoint)


def failure(keeper: subprocess.Popen, errors: IO[bytes]) -> str:
    """What bubblewrap said when it failed (it exits at once then)."""
    try:
        keeper.wait(5)
    except subprocess.TimeoutExpired:
        keeper.kill()
        keeper.wait()
    errors.seek(0)
    text = errors.read(2000).decode(errors="replace").strip().removeprefix("bwrap: ")
    return f"bubblewrap: {text}" if text else ""
