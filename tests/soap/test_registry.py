"""The per-worker service cache: no service query per call, operator changes seen within seconds."""

import os
import sys
import time
from pathlib import Path

from gspws.core.access import ServiceProfile
from gspws.core.registry import ServiceRegistry
from gspws.store import migrate
from gspws.wsgi import build_store, create_app

from helpers import LiveServer, call, make_settings, run_gspws, seed_demo, zeep_service

GSPWS = str(Path(sys.executable).with_name("gspws"))


class Counter:
    def __init__(self):
        self.version, self.loads, self.probes = 1, 0, 0

    def probe(self):
        self.probes += 1
        return self.version

    def load(self):
        self.loads += 1
        return {"APP0000001": ServiceProfile("APP0000001", True, (), {})}


def test_registry_reloads_only_when_the_version_moves():
    counter, now = Counter(), [0.0]
    registry = ServiceRegistry(counter.probe, counter.load, refresh=1.0, monotonic=lambda: now[0])
    assert "APP0000001" in registry.current()
    registry.current()
    assert (counter.probes, counter.loads) == (1, 1)  # within refresh: neither probed nor loaded
    now[0] = 1.5
    registry.current()
    assert (counter.probes, counter.loads) == (2, 1)  # probed, version unchanged: no reload
    counter.version = 2
    now[0] = 3.0
    registry.current()
    assert (counter.probes, counter.loads) == (3, 2)


def test_cli_suspension_reaches_a_running_server_within_the_refresh(tmp_path, database_url, clock):
    settings = make_settings(tmp_path, database_url, registry_refresh=1.0)
    store = build_store(settings)
    migrate.upgrade(store.engine)
    demo = seed_demo(store)
    server = LiveServer(create_app(settings, clock=clock, store=store))
    try:
        service = zeep_service(server.url)
        assert call(service, demo.account, demo.code(clock()))[0] == 0
        env = {**os.environ, "GSPWS_SECRET_KEY": settings.secret_key}
        run_gspws(
            [
                GSPWS,
                "--database-url",
                database_url,
                "service",
                "suspend",
                demo.service_id,
                "VerifyTOTPCode",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        deadline, outcome = time.monotonic() + 5, None
        while time.monotonic() < deadline:
            clock.advance(30)  # a fresh code each try
            outcome = call(service, demo.account, demo.code(clock()))[0]
            if outcome == 8109:
                break
            time.sleep(0.2)
        assert outcome == 8109
    finally:
        server.stop()
        store.engine.dispose()
