"""Import a token file (PSKC or CSV) from the browser: ``gspws token import``'s code
(gspws.tokenfiles reads and checks, gspws.store.pool.import_tokens stores in one transaction),
with its options: a PSKC key or password, the file's users or all to the pool or all to one
account, a dry run. The report says what was imported, what was already there, and what refused
the file (a file is accepted whole or refused whole).

The upload may be up to GSPWS_ADMIN_UPLOAD_BYTES (gspws serve lets this one path send that
much). It is written to a private temporary file (0600, removed at once) because the readers
take a path; the seeds in it are never logged nor kept. There is no live progress bar: the
page answers when the import is done (100,000 tokens take about 20 s; the CLI shows progress).
"""

import os
import tempfile
from pathlib import Path

from werkzeug.wrappers import Response

from gspws.admin.acts import change
from gspws.admin.app import PREFIX, Console, Page
from gspws.store import pool
from gspws.tokenfiles import pskc_key, read_token_file

IMPORT_PATH = PREFIX + "tokens/import"
TARGETS = ("file", "pool", "assign")


def import_form(page: Page, console: Console) -> Response:
    return page.render("import", report=None, targets=TARGETS, values={})


def import_file(page: Page, console: Console) -> Response:
    form, files = page.request.form, page.request.files  # (size checked by the dispatcher)
    values = {k: form.get(k, "") for k in ("target", "assign", "dry_run")}
    target = values["target"] if values["target"] in TARGETS else "file"
    assign = form.get("assign", "").strip() if target == "assign" else None
    upload = files.get("file")
    dry_run = bool(values["dry_run"])
    reports: list[pool.ImportReport] = []

    def carry_out(repo) -> None:
        key = pskc_key(form["key"]) if form.get("key", "").strip() else None
        password = form.get("password") or None
        if upload is None or not upload.filename:
            raise ValueError("choose a file")
        if target == "assign" and not assign:
            raise ValueError("name the account to assign the tokens to")
        with tempfile.TemporaryDirectory(prefix="gspws-import-") as directory:
            path = Path(directory) / "tokens"
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                upload.save(out)
            records = read_token_file(path, key, password, users=target == "file")
        reports.append(pool.import_tokens(repo, records, assign, dry_run))

    action = "ImportTokensDryRun" if dry_run else "ImportTokens"
    error = change(page, console, action, carry_out, account=assign)
    return page.render(
        "import",
        400 if error else 200,
        error=error,
        report=reports[0] if reports and not error else None,
        dry_run=dry_run,
        targets=TARGETS,
        values=values,
    )


ROUTES = [
    ("tokens/import", "token_import_form", ["GET"], import_form),
    ("tokens/import", "token_import", ["POST"], import_file),
]
