"""The reviewers' links from the outside: what a link previewer does with them, and what
a person does.

Mail scanners, chat apps and link previewers fetch every URL in a message (HEAD, GET) to
show a preview or check for malware, long before, and whether or not, a person reads it.
`preview_links` is such a machine; `press_the_button` is the person: it opens a link's
page, reads its form, and sends it (a POST) as a browser would. Notebook 10 and the tests
use both on the safe approval page and on an unsafe one that decides on GET.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from sfnlab.errors import LearnerError

URL = re.compile(r"https?://[^\s\"'<>]+")
PREVIEWER_METHODS = ("HEAD", "GET")  # what link previewers and mail scanners send
TIMEOUT = 30.0


@dataclass
class Fetched:
    method: str
    url: str
    status: int
    title: str = ""  # the page's <title>, what a preview would show


@dataclass
class Page:
    status: int
    title: str
    text: str  # the page's text, tags left out
    form: dict[str, str] = field(default_factory=dict)  # its form's fields, if it has one
    action: str = ""  # where its form posts to


def links_in(message: Any) -> list[str]:
    """Every http(s) URL in a message's strings, in order, each once."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.extend(URL.findall(value))

    walk(message)
    return list(dict.fromkeys(found))


def preview_links(message: Any, methods: tuple[str, ...] = PREVIEWER_METHODS) -> list[Fetched]:
    """Fetch every link in `message` as a link previewer does: no person involved."""
    fetched = []
    for url in links_in(message):
        for method in methods:
            answer = requests.request(method, url, timeout=TIMEOUT, allow_redirects=True)
            fetched.append(Fetched(method, url, answer.status_code, read_page(answer).title))
    return fetched


def open_page(link: str) -> Page:
    """GET a link and read its page."""
    answer = requests.get(link, timeout=TIMEOUT)
    page = read_page(answer)
    page.action = urljoin(answer.url, page.action) if page.form else ""
    return page


def press_the_button(link: str, reviewer: str | None = None, comment: str | None = None) -> Page:
    """What a person does: open the link, look, press the page's one button (a POST)."""
    page = open_page(link)
    if not page.form:
        raise LearnerError(f"The page has no button to press: {page.title}. {page.text[:300]}")
    fields = dict(page.form)
    if reviewer is not None:
        fields["reviewer"] = reviewer
    if comment is not None:
        fields["comment"] = comment
    return read_page(requests.post(page.action, data=fields, timeout=TIMEOUT))


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.text: list[str] = []
        self.form: dict[str, str] = {}
        self.action = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif (
            tag in ("input", "button", "textarea")
            and values.get("name")
            and (values.get("type") not in ("checkbox", "radio") or "checked" in values)
        ):
            self.form[values["name"]] = values.get("value", "")
        if tag not in ("input", "meta", "br"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "title" in self._in:
            self.title += data
        elif "style" not in self._in and "script" not in self._in and data.strip():
            self.text.append(data.strip())


def read_page(answer: requests.Response) -> Page:
    reader = _PageReader()
    if "html" in answer.headers.get("Content-Type", ""):
        reader.feed(answer.text)
    return Page(
        answer.status_code, reader.title.strip(), " ".join(reader.text), reader.form, reader.action
    )
