"""The console's dashboard (``/admin/``): how the service is doing, at a glance.

Calls per minute by return code (24 hours in 10-minute bars, 7 days in 1-hour bars), p50/p99
latency, the busiest services and those failing most, locked tokens and deliveries waiting.
The figures come from gspws.core.dashboard's port (gspws.store.dashboard: a rollup the dashboard
keeps itself, so the page stays fast with millions of audit rows); the charts are SVG drawn
here on the server (gspws.admin.charts) and embedded in the page as images: nothing to run,
nothing fetched from elsewhere. Every chart has its figures in words beside it too.
"""

import math

from werkzeug.wrappers import Response

from gspws.admin import charts
from gspws.admin.app import Console, Page
from gspws.core import dashboard as core
from gspws.core.codes import BY_CODE
from gspws.store.dashboard import DashboardQueries
from gspws.web.pages import translations

WORDS = translations(
    {
        "calls_24h": (
            "近 24 小時每分鐘呼叫數（依回傳碼）",
            "Calls per minute by return code, 24 hours",
        ),
        "calls_7d": ("近 7 日每分鐘呼叫數（依回傳碼）", "Calls per minute by return code, 7 days"),
        "per_minute": ("次／分", "calls/min"),
        "window_24h": ("近 24 小時", "Last 24 hours"),
        "window_7d": ("近 7 日", "Last 7 days"),
        "calls": ("呼叫數", "Calls"),
        "latency": ("回應時間", "Latency"),
        "p50": ("中位數 (p50)", "Median (p50)"),
        "p99": ("p99", "p99"),
        "at_most": ("≤ {} ms", "≤ {} ms"),
        "slower": ("> {} ms", "> {} ms"),
        "none": ("—", "—"),
        "by_code": ("各回傳碼呼叫數", "Calls by return code"),
        "code": ("回傳碼", "Code"),
        "busiest": ("呼叫最多的介接服務", "Busiest services"),
        "failing": ("失敗最多的介接服務", "Services with the most failures"),
        "service": ("ServiceID", "ServiceID"),
        "no_service": ("（未帶 ServiceID）", "(no ServiceID)"),
        "failures": ("失敗數", "Failures"),
        "failure_rate": ("失敗率", "Failure rate"),
        "nothing": ("沒有資料。", "Nothing yet."),
        "locked": ("已鎖定的載具", "Locked tokens"),
        "serial": ("序號", "Serial"),
        "account": ("帳號", "Account"),
        "locked_at": ("鎖定時間", "Locked at"),
        "locked_more": ("另有 {} 個未列出。", "{} more not listed."),
        "waiting": ("等待寄送的訊息", "Deliveries waiting"),
        "as_of": ("資料時間", "As of"),
        "uncounted": (
            "稽核紀錄彙整中：近 7 日尚有 {} 個 10 分鐘時段未計入，請稍後重新整理。",
            "Still summarising the audit trail: {} ten-minute periods of the last 7 days are not "
            "counted yet. Reload in a moment.",
        ),
        "latency_note": (
            "回應時間以約 25% 寬的區間統計，顯示所在區間的上限。",
            "Latency is counted in buckets about 25 % wide; the bucket's upper bound is shown.",
        ),
    }
)


def dashboard_page(page: Page, console: Console) -> Response:
    source: core.DashboardSource = DashboardQueries(console.store)
    overview = source.overview(console.clock())
    words = WORDS[page.lang]
    images = {
        name: charts.data_uri(
            charts.calls_chart(
                summary.series, words[f"calls_{name}"], words["per_minute"], page.zone
            )
        )
        for name, summary in overview.windows.items()
    }
    return page.render(
        "dashboard",
        d=words,
        overview=overview,
        images=images,
        ms=lambda value: _ms(value, words),
        message=lambda code: BY_CODE[code].message if code in BY_CODE else "",
    )


def _ms(value: float | None, words: dict[str, str]) -> str:
    if value is None:
        return words["none"]
    if math.isinf(value):
        return words["slower"].format(f"{core.LATENCY_BOUNDS[-1]:g}")
    return words["at_most"].format(f"{value:g}")


ROUTES = [
    ("", "dashboard", ["GET"], dashboard_page),
]
