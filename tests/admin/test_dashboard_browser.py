"""The dashboard in a real browser (headless Debian Chromium, driven by Playwright): an
administrator signs in with password and authenticator code, opens /admin/ and sees both charts
drawn, with data, under the console's CSP (no script, no inline style: the charts are SVG
``data:`` images); the page without a browser carries the figures in words and no script."""

import base64
import math
import re
import struct
import zlib
from urllib.parse import urlsplit

import pytest
from admin_console import PASSWORD, Browser, add_admin, totp
from test_dashboard_figures import NOW, audit

from gspws.store import dashboard as dashboard_store
from gspws.store.dashboard import DashboardQueries


def png_pixels(png: bytes) -> list[bytes]:
    """The rows of an 8-bit RGB or RGBA PNG (what Chromium writes), each as ``bytes``."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, width, height, channels = 8, b"", 0, 0, 0
    while position < len(png):
        (length,), kind = (
            struct.unpack(">I", png[position : position + 4]),
            png[position + 4 : position + 8],
        )
        body = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += body
        position += 12 + length
    raw, stride, rows, previous = (
        zlib.decompress(data),
        width * channels,
        [],
        bytes(width * channels),
    )
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        previous = bytes(line)
        rows.append(b"".join(bytes(line[x : x + 3]) for x in range(0, stride, channels)))
    return rows


def colours(png: bytes) -> set[bytes]:
    return {row[x : x + 3] for row in png_pixels(png) for x in range(0, len(row), 3)}


@pytest.fixture
def enrolled(live_server, settings, store, clock):
    """An auditor enrolled through the console (tests/admin_console.py); returns (name, a code
    of the next step, for signing in)."""
    browser = Browser(live_server.app, clock)
    key = browser.enrol(add_admin(settings, store, clock, "dashviewer", "auditor"))
    clock.advance(30)
    return "dashviewer", totp(key, clock())


def seed_calls(store, clock) -> None:
    """Calls over 20 hours and 6 days, rolled up at once (a view rolls up for a second at most,
    which a loaded machine may not finish in: the page would say so, see test_dashboard_figures)."""
    audit(
        store,
        *[(NOW - 3600 * h - 60, "APP1", 0, 4.0) for h in range(20) for _ in range(3 + h % 4)],
        *[(NOW - 3600 * h - 30, "APP2", 9999, 25.0) for h in range(0, 20, 2)],
        *[(NOW - 86400 * d - 7200, "APP3", 3001, 8.0) for d in range(1, 7) for _ in range(9)],
    )
    assert DashboardQueries(store, budget=math.inf).roll_up(clock()) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_charts_render_with_data(browser, live_server, store, clock, enrolled, tmp_path):
    """(``browser``: tests/browsers.py, through this directory's conftest)"""
    name, code = enrolled
    seed_calls(store, clock)
    context = browser.new_context(locale="en", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security" in message.text else None
        ),
    )
    page.goto(live_server.base + "/admin/signin?lang=en")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.fill("#code", code)
    page.click("#sign-in")
    page.wait_for_load_state()
    if urlsplit(page.url).path != "/admin/":
        page.goto(live_server.base + "/admin/?lang=en")
    for window in ("24h", "7d"):
        chart = page.locator(f"#chart-{window}")
        assert chart.evaluate("img => img.complete && img.naturalWidth") == 900  # decoded
        box = chart.bounding_box()
        assert box["width"] > 400 and box["height"] > 100
        shot = colours(chart.screenshot())
        assert len(shot) > 20  # not blank: bars, axes, text
        assert any(
            abs(r - 0x2E) < 24 and abs(g - 0x7D) < 24 and abs(b - 0x32) < 24 for r, g, b in shot
        )  # code 0
        assert any(
            abs(r - 0xC6) < 24 and abs(g - 0x28) < 24 and abs(b - 0x28) < 24 for r, g, b in shot
        )  # 9999
    assert page.locator("#locked-count dd").inner_text() == "0"
    assert "APP1" in page.locator("#window-24h table.busiest").inner_text()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)  # to look at
    assert refused == []  # the CSP refused nothing the page needs
    context.close()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_page_without_a_browser(live_server, store, clock, enrolled):
    """No script anywhere (page or charts), the console's CSP, the figures in words."""
    name, code = enrolled
    seed_calls(store, clock)
    browser = Browser(live_server.app, clock)
    browser.get("/admin/signin")
    browser.post("/admin/signin", {"name": name, "password": PASSWORD, "code": code})
    page = browser.get("/admin/", lang="en")
    assert page.status_code == 200
    text = browser.text
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "style-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in text and "style=" not in text
    assert 'id="uncounted"' not in text
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', text)
    assert len(images) == 2
    for image in images:
        svg = base64.b64decode(image)
        assert svg.startswith(b"<svg") and b"<script" not in svg and b"http://kozea" not in svg
    # 20 hours of 3-6 successes of APP1, 10 failures of APP2: the busiest table says so
    busiest = re.search(r'<table class="busiest">.*?</table>', text, re.S).group(0)
    assert re.search(r"<td>APP1</td><td>90</td><td>0</td>", busiest)
    assert re.search(r"<td>APP2</td><td>10</td><td>10</td>", busiest)
    assert "(no ServiceID)" not in busiest  # the administrator's sign-in is not a call


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_says_what_is_not_counted_yet(live_server, store, clock, enrolled, monkeypatch):
    """A view with no time to spare rolls up one step and says how much is left."""
    name, code = enrolled
    monkeypatch.setattr(dashboard_store, "BUDGET", 0)
    audit(store, *[(NOW - 3600 * h, "APP1", 0, 4.0) for h in range(1, 100, 7)])
    browser = Browser(live_server.app, clock)
    browser.get("/admin/signin")
    browser.post("/admin/signin", {"name": name, "password": PASSWORD, "code": code})
    browser.get("/admin/", lang="en")
    first = int(re.search(r"(\d+) ten-minute periods", browser.by_id("uncounted")).group(1))
    browser.get("/admin/", lang="en")
    second = int(re.search(r"(\d+) ten-minute periods", browser.by_id("uncounted")).group(1))
    assert 0 < second < first < 7 * 144
