"""The services' access rules, cached in each worker and refreshed when an operator changes them.

Looking a service up on every call cost more than the rest of a verification, yet services
change rarely (an operator runs ``gspws service ...``). Every such change bumps a version number
in the store; each worker compares it at most once per ``refresh`` seconds and reloads all
services when it moved. So a suspension takes effect in every worker within ``refresh`` seconds,
and a call costs no service query at all.
"""

import threading
import time
from collections.abc import Callable, Mapping

from gspws.core.access import ServiceProfile

VersionProbe = Callable[[], int]
Loader = Callable[[], Mapping[str, ServiceProfile]]


class ServiceRegistry:
    def __init__(
        self,
        probe: VersionProbe,
        load: Loader,
        refresh: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._load = load
        self._refresh = refresh
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._version: int | None = None
        self._services: Mapping[str, ServiceProfile] = {}
        self._checked = float("-inf")

    def current(self) -> Mapping[str, ServiceProfile]:
        """The services by ServiceID, no older than ``refresh`` seconds."""
        if self._monotonic() - self._checked >= self._refresh:
            with self._lock:
                if self._monotonic() - self._checked >= self._refresh:
                    self._reload_if_changed()
        return self._services

    def last_loaded(self) -> Mapping[str, ServiceProfile]:
        """The services as last loaded, never asking the store (metrics: even while it is down)."""
        return self._services

    def _reload_if_changed(self) -> None:
        version = self._probe()
        if version != self._version:
            self._services = dict(self._load())
            self._version = version
        self._checked = self._monotonic()
