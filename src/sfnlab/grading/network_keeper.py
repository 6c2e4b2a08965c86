"""The process that keeps the grading network: started inside it, it serves the grader.

`network.py` starts this file with bubblewrap, which gives it a network namespace of its
own with nothing but the loopback interface, up. It runs as long as the grader keeps its
end of the control socket open, and does two things for the grader, which stays outside:

- `listen`: a listening TCP socket made in here (a socket belongs to the namespace it was
  made in, whoever uses it later), handed over with SCM_RIGHTS. The grader's capture
  endpoint serves on it, and graded Lambdas in here reach it.
- `forward`: it is handed a listening socket the grader made on the machine's loopback,
  and carries every connection made to it to a port in here (the grading LocalStack's
  gateway): the grader's AWS calls, from outside, to the only way in.

It imports nothing but the standard library (it runs with `python -I -S`), so it starts in
a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading

MESSAGE = 4096  # a control message's largest size (they are short JSON objects)
CHUNK = 65536


def lo_works() -> str | None:
    """None when a loopback connection works in here; else what failed."""
    try:
        with (
            socket.create_server(("127.0.0.1", 0)) as server,
            socket.create_connection(server.getsockname(), timeout=2),
        ):
            return None
    except OSError as e:
        return f"the loopback interface does not work in the new namespace: {e}"


def pump(source: socket.socket, target: socket.socket) -> None:
    """Copy one direction until the source ends, then pass the end on."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    try:
        while received := source.recv_into(buffer):
            target.sendall(view[:received])
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def carry(outside: socket.socket, port: int) -> None:
    """Join one connection from outside to `port` in here, both ways, until both end."""
    with outside:
        try:
            inside = socket.create_connection(("127.0.0.1", port))
        except OSError:
            return  # nothing listens yet (LocalStack starting): the caller sees it closed
        with inside:
            for conn in (outside, inside):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            back = threading.Thread(target=pump, args=(inside, outside), daemon=True)
            back.start()
            pump(outside, inside)
            back.join()


def forward(listener: socket.socket, port: int) -> None:
    while True:
        try:
            outside, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=carry, args=(outside, port), daemon=True).start()


def answer(control: socket.socket, request: dict, fds: list[int]) -> None:
    op = request.get("op")
    if op == "listen":
        server = socket.create_server(("127.0.0.1", int(request.get("port", 0))), backlog=128)
        with server:
            socket.send_fds(
                control, [json.dumps({"port": server.getsockname()[1]}).encode()], [server.fileno()]
            )
        return
    if op == "forward" and len(fds) == 1:
        listener = socket.socket(fileno=fds.pop())
        threading.Thread(target=forward, args=(listener, int(request["port"])), daemon=True).start()
        control.send(json.dumps({"forwarding": int(request["port"])}).encode())
        return
    control.send(json.dumps({"error": f"unknown request {request!r}"}).encode())


def serve(control: socket.socket) -> None:
    problem = lo_works()
    namespaces = [os.open(f"/proc/self/ns/{kind}", os.O_RDONLY) for kind in ("net", "user")]
    hello = {"pid": os.getpid(), "problem": problem}
    socket.send_fds(control, [json.dumps(hello).encode()], namespaces)
    for fd in namespaces:
        os.close(fd)
    if problem:
        return
    while True:
        message, fds, _, _ = socket.recv_fds(control, MESSAGE, 1)
        if not message:
            return  # the grader has gone: so does the network, once its processes have
        try:
            answer(control, json.loads(message), fds)
        except (OSError, ValueError, KeyError) as e:
            control.send(json.dumps({"error": str(e)}).encode())
        finally:
            for fd in fds:
                os.close(fd)


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
