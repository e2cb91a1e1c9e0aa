"""Demo data for ``make run``: one agency allowed from loopback, one account with a TOTP token.

Seeded only into an empty store, so it never mixes with real accounts.
"""

import shlex
from dataclasses import dataclass

from gspws.core import otp
from gspws.core.access import FUNCTIONS
from gspws.store.models import TokenStatus
from gspws.store.repo import Repository, StoreError

SERVICE_ID = "APP0000001"
ACCOUNT = "demo"


@dataclass(frozen=True)
class DemoInfo:
    service_id: str
    account: str
    params: otp.TotpParams


def ensure(repo: Repository) -> DemoInfo | None:
    """Seed the demo when the store is empty; the demo's details if it exists, else None."""
    if not repo.has_accounts():
        repo.add_service(SERVICE_ID, "Demo agency", ["127.0.0.1/32", "::1/128"], list(FUNCTIONS))
        account = repo.add_account(ACCOUNT, name="Demo user")
        repo.add_token(account, otp.TotpParams(otp.new_secret()), TokenStatus.ACTIVE, "demo phone")
    try:
        tokens = repo.list_tokens(ACCOUNT)
    except StoreError:
        return None
    active = [t for t in tokens if t.status is TokenStatus.ACTIVE]
    if not active:
        return None
    return DemoInfo(SERVICE_ID, ACCOUNT, repo.token_params(active[0]))


def instructions(info: DemoInfo, url: str, issuer: str, spools: tuple[str, ...] = ()) -> str:
    p = info.params
    current_code = (
        f'import pyotp, hashlib; print(pyotp.TOTP("{p.secret}", digits={p.digits}, '
        f"interval={p.period}, digest=hashlib.{p.algorithm.lower()}).now())"
    )
    command = (
        f".venv/bin/python clients/verify_totp.py --url {url} --service-id {info.service_id}"
        f' --account {info.account} --code "$(.venv/bin/python -c {shlex.quote(current_code)})"'
    )
    return "\n".join(
        [
            "Demo data (test secrets only):",
            f"  ServiceID    {info.service_id} (allowed from 127.0.0.1 and ::1)",
            f"  account      {info.account}",
            f"  otpauth URI  {otp.provisioning_uri(p, info.account, issuer)}",
            "",
            "Once the server is up, verify the current code in another terminal:",
            f"  {command}",
            "Run it twice within 30 seconds: the second call is a replay and answers 9999.",
            f"Help pages: {url}   WSDL: {url}?WSDL",
            "",
            f"Bind an authenticator app in a browser: open the link that "
            f"`.venv/bin/gspws account link {info.account}` prints.",
            "Sign in by scanning a QR code (docs/qr-login.md): in another terminal run",
            f"  .venv/bin/python clients/qr_login/app.py --url "
            f"{url.replace('/TOTP.asmx', '/OTP.asmx')} --service-id {info.service_id}",
            "  and open http://127.0.0.1:8001/",
            "Operator console (docs/admin.md): `.venv/bin/gspws admin add NAME --role operator` "
            f"prints an enrolment link; then open {url.split('/gsp2ws/')[0]}/admin/",
            *(
                f"Codes sent by SMS or e-mail land in {spool}/ (one file per message)."
                for spool in spools
            ),
        ]
    )
