"""A SOAP round trip through zeep: the check CI also runs on Python 3.12 and 3.13."""

import pytest

from helpers import call, zeep_service


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
def test_valid_code_then_replay(live_server, demo, clock, soap12):
    service = zeep_service(live_server.url, soap12)
    code = demo.code(clock())
    assert call(service, demo.account, code) == (0, "動態密碼驗證通過")
    assert call(service, demo.account, code) == (9999, "動態密碼驗證不通過")
