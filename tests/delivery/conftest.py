"""Fixtures of the delivery tests: the loopback peers of ``delivery_peers``."""

import pytest
from aiosmtpd.controller import Controller
from delivery_peers import Inbox, Peer

from helpers import free_port


@pytest.fixture
def peer():
    running = Peer()
    yield running
    running.stop()


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()
