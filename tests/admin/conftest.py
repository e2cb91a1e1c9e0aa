"""The browser fixtures (headless Chromium) for this directory's browser tests."""

from browsers import browser, page  # noqa: F401
