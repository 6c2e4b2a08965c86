"""`python -m sfnlab.inbox`: run the inbox in the foreground (`sfnlab up` runs it for you)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sfnlab.inbox.server import DEFAULT_MAX_BODY_BYTES, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sfnlab.inbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=4567)
    parser.add_argument("--database", type=Path, required=True, help="SQLite file of requests")
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY_BYTES)
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name clients may use for the inbox besides loopback and --host "
        "(repeat for several); requests naming any other host are refused",
    )
    args = parser.parse_args()
    serve(args.host, args.port, args.database, args.max_body, args.allow_host)


main()
