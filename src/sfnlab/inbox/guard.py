"""What the inbox refuses before it looks at a request, and why.

The inbox holds task tokens, and anyone holding a token can decide a review. It listens
on loopback, but a web page in the learner's browser can still reach loopback: it can
POST a form there, and through DNS rebinding (a host name of its own that it points at
127.0.0.1) it can even read the answers. So:

- the `Host` header must name loopback or a host the inbox was told it serves
  (a rebinding page's requests carry the page's own host name);
- a request that changes something (POST, PUT, DELETE) must not come from a page of
  another origin (`Origin`, `Sec-Fetch-Site` and `Referer` say where a browser request
  comes from; the Lambdas, curl and the kit send none of them);
- a body is read only with a plain, single, non-negative Content-Length.

Standard library only: the inbox runs on a bare Python in Docker.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from email.message import Message
from http import HTTPStatus
from urllib.parse import urlsplit

HOST_HEADER = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?$")
DIGITS = re.compile(r"^[0-9]+$", re.ASCII)
WRITES = frozenset({"POST", "PUT", "DELETE"})
# What a browser says of a request it sends on the page's own behalf ("none": the user
# typed the address). "same-site" is another port of the same host: another origin.
OWN_FETCH_SITES = frozenset({"same-origin", "none"})


class Refused(Exception):
    """A request the inbox will not serve: the status to answer and a message saying why."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback_name(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1, as a `Host` header names them (IPv6 in brackets)."""
    host = host.lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def served_hosts(bound_host: str, configured: Iterable[str] = ()) -> frozenset[str]:
    """The non-loopback host names the inbox answers to: the address it is bound to (unless
    that is every interface) and those it was told about, lower-cased, IPv6 in brackets."""
    names = set()
    for name in (bound_host, *configured):
        name = name.strip().lower()
        if not name or name in ("0.0.0.0", "::", "[::]"):
            continue
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        names.add(name)
    return frozenset(names)


def checked_host(headers: Message, served: frozenset[str]) -> str:
    """The request's `Host` header, if it names a host the inbox serves; else Refused."""
    values = headers.get_all("Host") or []
    if len(values) != 1:
        raise Refused(HTTPStatus.BAD_REQUEST, "send exactly one Host header")
    value = values[0].strip()
    match = HOST_HEADER.match(value)
    if not match or (match.group(2) and int(match.group(2)) > 65535):
        raise Refused(HTTPStatus.BAD_REQUEST, f"the Host header {value!r} is not host[:port]")
    host = match.group(1).lower()
    if not (is_loopback_name(host) or host in served):
        raise Refused(
            HTTPStatus.MISDIRECTED_REQUEST,
            f"this inbox does not answer to the host name {host!r}: use http://127.0.0.1:<port>"
            " (or start it with --allow-host NAME)",
        )
    return value.lower()


def check_same_origin(method: str, headers: Message, host: str) -> None:
    """Refuse a write a browser sends on behalf of a page of another origin.

    `host` is the checked `Host` header: the inbox's own pages have the origin
    http://<host>. A request without any of these headers is not a browser's: allowed.
    """
    if method not in WRITES:
        return
    own = f"http://{host}"
    origins = headers.get_all("Origin") or []
    if len(origins) > 1 or (origins and origins[0].strip().lower() != own):
        raise Refused(
            HTTPStatus.FORBIDDEN,
            f"a page from {origins[0].strip()!r} may not change the inbox: only its own "
            "pages, and programs that are not browsers, may",
        )
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in OWN_FETCH_SITES:
        raise Refused(
            HTTPStatus.FORBIDDEN,
            f"a {site.strip()} page may not change the inbox (Sec-Fetch-Site)",
        )
    referer = headers.get("Referer")
    if not origins and referer:
        # Browsers that predate Origin on form posts still name the page in Referer.
        parts = urlsplit(referer.strip())
        if f"{parts.scheme}://{parts.netloc}".lower() != own:
            raise Refused(
                HTTPStatus.FORBIDDEN, "a page of another origin may not change the inbox (Referer)"
            )


def body_length(headers: Message, max_body: int) -> int | None:
    """The body's length from its one Content-Length; None when there is none.

    Refused for a Transfer-Encoding (the inbox reads only what it was told the length of),
    a length that is not a plain decimal number (`-1`, `+5`, `1_0`, `0x10`, two different
    ones), and a body over `max_body`.
    """
    lengths = headers.get_all("Content-Length") or []
    if headers.get("Transfer-Encoding") is not None:
        if lengths:
            raise Refused(
                HTTPStatus.BAD_REQUEST, "send either Content-Length or Transfer-Encoding, not both"
            )
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
    if not lengths:
        return None
    values = {value.strip(" \t") for value in lengths}
    if len(values) > 1:
        raise Refused(HTTPStatus.BAD_REQUEST, "the request has different Content-Lengths")
    (value,) = values
    if not DIGITS.match(value):
        raise Refused(
            HTTPStatus.BAD_REQUEST, f"Content-Length {value!r} is not a non-negative whole number"
        )
    # Digits past the cap's own count are over it, however many there are.
    if len(value.lstrip("0")) > len(str(max_body)) or int(value) > max_body:
        raise Refused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"a body of {value.lstrip('0')} bytes is over the limit of {max_body}",
        )
    return int(value)


def declared_length(headers: Message, limit: int) -> int:
    """The body's length as the request declares it, if plainly (else 0), at most `limit`."""
    lengths = headers.get_all("Content-Length") or []
    if len(lengths) != 1 or headers.get("Transfer-Encoding") is not None:
        return 0
    value = lengths[0].strip(" \t")
    if not DIGITS.match(value):
        return 0
    return min(int(value) if len(value) <= 12 else limit, limit)


def whole_number(
    name: str, value: str | None, default: int | None, low: int, high: int
) -> int | None:
    """A query parameter as a whole number clamped to [low, high]; Refused if not a number."""
    if value is None:
        return default
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    digits = text[1:] if text.startswith(("-", "+")) else text
    if not DIGITS.match(digits):
        raise Refused(HTTPStatus.BAD_REQUEST, f"{name} must be a whole number, not {value!r}")
    number = int(digits) if len(digits) <= 18 else 10**18  # huge is huge: no need to parse it
    return max(low, min(high, sign * number))
