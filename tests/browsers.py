"""Headless Debian Chromium driven by Playwright, for the tests that walk pages in a real
browser (the binding page, the operator console). A directory's ``conftest.py`` imports the
fixtures: ``from browsers import browser, page  # noqa: F401``."""

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is not installed (pip install -e '.[test]')",
)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(
            f"no browser: {CHROMIUM} is not installed (apt-get install chromium; "
            f".ci/run installs it)"
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-TW")
    yield context.new_page()
    context.close()
