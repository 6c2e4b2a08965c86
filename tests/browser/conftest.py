"""A real, headless Chromium: Debian's, driven by Playwright (no browser is downloaded)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

from sfnlab.settings import load_settings

# As the machines of this project need: no background connections, no sandbox as root.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return load_settings().chromium or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "No Chromium: install Debian's `chromium` (scripts/run_tests.sh does, as root) "
            "or point SFNLAB_CHROMIUM at one."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()
