"""Measure the `sfnlab` command's speed, against `python -c "import boto3"` in the same run.

    .sfnlab/venv/bin/python benchmarks/cli.py [--runs 7] [--first-use]

1. The floor: a bare `python -c "import boto3"` on the kit's interpreter.
2. `sfnlab --help`, whole.
3. Each command's own overhead: from starting the process to its first request to
   LocalStack (or the inbox), measured by a stand-in server on loopback that notes when
   the first request arrives, minus the floor. (The stand-in answers every request with
   an error, so each command then ends.)
4. On a real embedded LocalStack of its own (own ports, own state folder): `sfnlab down`
   and a warm `scripts/run_exercise.sh`.
5. With --first-use: a fresh `git clone` of this repository's HEAD into a temporary
   folder, with an empty uv cache, runs `scripts/run_exercise.sh` until SUCCEEDED; each
   phase is printed as the script prints it. Needs PyPI.

Each figure is printed beside its target, with its ratio to the floor. On a machine shared
with other work, the least of the runs is what the command itself costs (the median adds
what other programs took from it): the targets are judged on the least, the median is
printed beside it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = PROJECT_ROOT / ".sfnlab" / "venv" / "bin"
PYTHON = str(VENV_BIN / "python")
SFNLAB = str(VENV_BIN / "sfnlab")
TOKEN = "0f8c2b7e-4a7d-4c52-9a3e-5d1f2e3c4b5a"
# Each command with the arguments that make it call out at once.
COMMANDS = {
    "status": ["status"],
    "status EXECUTION": ["status", "solve-1"],
    "start": ["start"],
    "token": ["token"],
    "approve --token": ["approve", "--token", TOKEN],
    "deploy": ["deploy"],
    "graph": ["graph"],
    "up (running)": ["up"],
}


class FirstRequest(ThreadingHTTPServer):
    """Notes when the first request arrives; answers every request with HTTP 500."""

    daemon_threads = True

    def __init__(self) -> None:
        self.first: float | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                if server.first is None:
                    server.first = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = answer  # noqa: N815 (http.server's names)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFNLAB_", "AWS_"))}
    env.update(extra)
    return env


def timed(command: list[str], env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env or environment(), cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def until_first_request(args: list[str]) -> float:
    """Seconds from starting `sfnlab ARGS` to its first request."""
    server = FirstRequest()
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    env = environment(
        SFNLAB_ENDPOINT=server.url,
        SFNLAB_INBOX_URL=server.url,
        SFNLAB_STATE_DIR=tempfile.mkdtemp(prefix="sfnlab-bench-"),
    )
    started = time.perf_counter()
    subprocess.run([SFNLAB, *args], env=env, capture_output=True, check=False)
    server.shutdown()
    server.server_close()
    shutil.rmtree(env["SFNLAB_STATE_DIR"], ignore_errors=True)
    return float("nan") if server.first is None else server.first - started


def line(label: str, value: float, floor: float, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"{label:<44} {value:6.3f} s  {value / floor:5.2f}x floor   {target:<24} {verdict}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_localstack(runs: int, floor: float) -> None:
    state = Path(tempfile.mkdtemp(prefix="sfnlab-bench-state-"))
    env = environment(
        SFNLAB_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        SFNLAB_INBOX_URL=f"http://127.0.0.1:{free_port()}",
        SFNLAB_STATE_DIR=str(state),
    )
    downs, exercises = [], []
    try:
        for _ in range(runs):
            subprocess.run([SFNLAB, "up"], env=env, capture_output=True, check=True)
            subprocess.run([SFNLAB, "smoke"], env=env, capture_output=True, check=True)
            downs.append(timed([SFNLAB, "down"], env))
        run_exercise = [str(PROJECT_ROOT / "scripts" / "run_exercise.sh")]
        subprocess.run(run_exercise, env=env, capture_output=True, check=True)  # warms up
        for _ in range(runs):
            exercises.append(timed(run_exercise, env))
    finally:
        subprocess.run([SFNLAB, "down"], env=env, capture_output=True, check=False)
        shutil.rmtree(state, ignore_errors=True)
    for label, values in (
        ("sfnlab down (LocalStack, inbox, a Lambda)", downs),
        ("scripts/run_exercise.sh, warm", exercises),
    ):
        line(label, min(values), floor, "<= 1.5 s", min(values) <= 1.5)
        print(f"{'':<44} (median {median(values):.3f} s)")


def first_use() -> None:
    """A fresh clone, an empty uv cache: run_exercise.sh to SUCCEEDED, phase by phase."""
    folder = Path(tempfile.mkdtemp(prefix="sfnlab-first-use-"))
    clone = folder / "kit"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    env = environment(
        UV_CACHE_DIR=str(folder / "uv-cache"),
        SFNLAB_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        SFNLAB_INBOX_URL=f"http://127.0.0.1:{free_port()}",
    )
    env.pop("VIRTUAL_ENV", None)
    print(f"\nfirst use: git clone of HEAD into {clone}, empty UV_CACHE_DIR")
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(clone / "scripts" / "run_exercise.sh")],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for text in process.stderr:
        print(f"  {time.perf_counter() - started:5.1f} s | {text.rstrip()}")
    status = process.wait()
    total = time.perf_counter() - started
    size = subprocess.run(["du", "-sh", str(clone / ".sfnlab")], capture_output=True, text=True)
    cache = subprocess.run(["du", "-sh", str(folder / "uv-cache")], capture_output=True, text=True)
    # Counted together, files hard-linked from the cache into the environments count once.
    both = subprocess.run(
        ["du", "-sch", str(clone / ".sfnlab"), str(folder / "uv-cache")],
        capture_output=True,
        text=True,
    )
    subprocess.run([str(clone / ".sfnlab/venv/bin/sfnlab"), "down"], env=env, capture_output=True)
    verdict = "ok" if status == 0 and total <= 30 else "MISSED"
    label = f"first use to SUCCEEDED (exit {status})"
    print(f"{label:<44} {total:6.1f} s  <= 30 s  {verdict}")
    print(
        f"disk: .sfnlab {size.stdout.split()[0]}, uv cache {cache.stdout.split()[0]}, "
        f"both together {both.stdout.split()[-2]}"
    )
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--first-use", action="store_true", help="also measure a fresh clone")
    args = parser.parse_args()

    # Interleaved, run by run, so that a busy moment weighs on the floor and the commands
    # alike: the ratios stay fair on a shared machine.
    floors, helps = [], []
    firsts: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(args.runs):
        floors.append(timed([PYTHON, "-c", "import boto3"]))
        helps.append(timed([SFNLAB, "--help"]))
        for label, command in COMMANDS.items():
            firsts[label].append(until_first_request(command))
    # On a shared machine the least of several runs is the command's own cost; the median
    # adds what other programs took from it. Both are printed; the targets use the least.
    floor = min(floors)
    label = 'floor: python -c "import boto3"'
    print(f"{label:<44} {floor:6.3f} s  (median {median(floors):.3f} s)")
    line("sfnlab --help", min(helps), floor, "<= 0.25 s", min(helps) <= 0.25)
    for label, seconds in firsts.items():
        first = min(seconds)
        overhead = first - floor
        print(
            f"{'sfnlab ' + label + ': to its first request':<44} {first:6.3f} s  "
            f"{first / floor:5.2f}x floor   overhead {overhead:+.3f} s (<= +0.1 s) "
            f"{'ok' if overhead <= 0.1 else 'MISSED'}  (median {median(seconds):.3f} s)"
        )
    with_localstack(max(3, args.runs // 2), floor)
    if args.first_use:
        first_use()


if __name__ == "__main__":
    main()
