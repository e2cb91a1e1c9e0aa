"""This directory's fixtures: the console's app on the test store and clock, an operator signed
in to it, and the browser fixtures (headless Chromium) for the browser tests."""

import pytest
from admin_console import signed_in
from browsers import browser, page  # noqa: F401

from gspws.wsgi import create_app


@pytest.fixture
def app(settings, store, clock, demo):
    return create_app(settings, clock=clock, store=store)


@pytest.fixture
def alice(app, settings, store, clock):
    """An operator signed in to the console (a werkzeug client with its cookies)."""
    return signed_in(app, settings, store, clock)
