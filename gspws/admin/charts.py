"""The dashboard's charts: SVG drawn on the server with pygal, embedded in the page as
``data:`` images.

Why pygal (3.1, LGPL-3.0, pure Python, one dependency: importlib-metadata; its wheel is 130 kB)
rather than matplotlib's SVG backend (its wheel 9.9 MB, with numpy, pillow, fonttools, kiwisolver
and contourpy 41 MB of wheels; a far larger project, but built for print figures): pygal writes
SVG natively, with a ``<title>`` and a ``<desc>`` per value (read by screen readers), text as
text (matplotlib turns it into paths by default), a size set by the viewBox so the image scales.

No script runs: pygal always adds an inline ``<script>`` with its tooltip configuration and, by
default, a ``<script src>`` from its CDN; ``js=[]`` drops the second and :func:`svg` removes
the first. The console's CSP allows no inline style but images from ``data:``; pygal's SVG
carries its own ``<style>``, which applies inside an image (an SVG image is a document of its
own: the page's CSP does not reach it, and it can run no script and load nothing). So each
chart is an ``<img>`` whose ``src`` is the SVG itself: the page needs no second request (and no
second read of the store), and its ``alt`` text and the table beside it give the same figures
in words.
"""

import base64
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import pygal
from lxml import etree
from pygal.style import Style

from gspws.core import dashboard as core

#: A colour per return code, the same in every chart: successes green, the caller's mistakes
#: amber, the person's failures red, gspws's own errors purple.
COLOURS = {
    0: "#2e7d32",
    12: "#81c784",
    13: "#f9a825",
    9999: "#c62828",
    3001: "#ef6c00",
    3000: "#6a1b9a",
    1: "#8d6e63",
    8100: "#5d4037",
    8101: "#795548",
    8102: "#a1887f",
    8104: "#455a64",
    8108: "#78909c",
    8109: "#b0bec5",
}
OTHER = "#9e9e9e"
_UTC = ZoneInfo("UTC")


def svg(chart: pygal.graph.graph.Graph) -> bytes:
    """The chart's SVG without any ``<script>``."""
    tree = chart.render_tree()
    # (pygal builds its tree without namespaces and adds xmlns as attributes on output)
    for script in list(tree.iter("script", "{http://www.w3.org/2000/svg}script")):
        script.getparent().remove(script)
    return bytes(etree.tostring(tree))


def data_uri(image: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(image).decode("ascii")


def _label(start: int, window: core.Window, zone: tzinfo) -> str:
    moment = datetime.fromtimestamp(start, zone)
    return moment.strftime("%H:%M" if window.bar < 3600 else "%m-%d %H:%M")


def calls_chart(series: core.CallSeries, title: str, y_title: str, zone: ZoneInfo = _UTC) -> bytes:
    """Calls per minute, stacked by return code, one bar per ``series.window.bar``; the times
    below in ``zone``, which the axis names."""
    codes = sorted(series.calls, key=lambda code: (code != 0, code))
    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        font_family="sans-serif",
        colors=tuple(COLOURS.get(code, OTHER) for code in codes) or (OTHER,),
    )
    window = series.window
    chart = pygal.StackedBar(
        js=[],
        style=style,
        width=900,
        height=320,
        explicit_size=True,  # width and height on <svg>: the image's intrinsic size
        title=title,
        y_title=y_title,
        x_title=zone.key,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(series.starts) // 8),
        x_label_rotation=0,
        truncate_label=-1,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(8, max(1, len(codes))),
        spacing=2,
        margin=12,
        show_y_guides=True,
        print_values=False,
        no_data_text="—",
    )
    chart.x_labels = [_label(start, window, zone) for start in series.starts]
    for code in codes:
        chart.add(str(code), [round(rate, 2) for rate in series.per_minute(code)])
    return svg(chart)
