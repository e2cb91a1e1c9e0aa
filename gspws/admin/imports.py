"""Import a token file (PSKC or CSV) from the browser: ``gspws token import``'s code
(gspws.tokenfiles reads and checks, gspws.store.pool.import_tokens stores in one transaction),
with its options: a PSKC key or password, the file's users or all to the pool or all to one
account, a dry run. A file is accepted whole or refused whole.

The upload may be up to GSPWS_ADMIN_UPLOAD_BYTES (gspws serve lets this one path send that
much). It is written to a private temporary file (0600, removed once read) because the readers
take a path; the seeds in it are never logged nor kept. The form's own mistakes (no file, no
account, a key that is not hex) are answered at once; then the import runs in a thread of this
worker (gspws.admin.import_jobs says why a thread) and the browser is sent to its status page,
which reloads itself (``<meta http-equiv="refresh">``, no script) showing N of M as
import_tokens's ``progress`` hook counts them, then the report: imported, already present, or
why the file was refused.
"""

import os
import shutil
import tempfile
from pathlib import Path

from werkzeug.wrappers import Response

from gspws.admin.acts import change_as
from gspws.admin.app import PREFIX, Console, Page
from gspws.admin.import_jobs import DONE, REFUSED, SAMPLE, STORING, Job
from gspws.core import codes
from gspws.store import pool
from gspws.tokenfiles import pskc_key, read_token_file

IMPORT_PATH = PREFIX + "tokens/import"
TARGETS = ("file", "pool", "assign")
#: Seconds between two reloads of a running import's status page.
REFRESH = 1


def import_form(page: Page, console: Console) -> Response:
    return page.render("import", error=None, targets=TARGETS, values={})


def import_file(page: Page, console: Console) -> Response:
    form, files = page.request.form, page.request.files  # (size checked by the dispatcher)
    values = {k: form.get(k, "") for k in ("target", "assign", "dry_run")}
    target = values["target"] if values["target"] in TARGETS else "file"
    assign = form.get("assign", "").strip() if target == "assign" else None
    upload = files.get("file")
    dry_run = bool(values["dry_run"])
    actor = page.actor("ImportTokensDryRun" if dry_run else "ImportTokens")
    try:
        key = pskc_key(form["key"]) if form.get("key", "").strip() else None
        if upload is None or not upload.filename:
            raise ValueError("choose a file")
        if target == "assign" and not assign:
            raise ValueError("name the account to assign the tokens to")
    except ValueError as exc:
        console.admins.audit(actor, codes.REJECTED, assign)
        return page.render("import", 400, error=str(exc), targets=TARGETS, values=values)
    password = form.get("password") or None
    directory = Path(tempfile.mkdtemp(prefix="gspws-import-"))  # (0700)
    path = directory / "tokens"
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        upload.save(out)

    def work(job: Job) -> None:
        reports: list[pool.ImportReport] = []

        def carry_out(repo) -> None:
            try:
                records = read_token_file(path, key, password, users=target == "file")
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            job.update(state=STORING, total=len(records))
            reports.append(pool.import_tokens(repo, records, assign, dry_run, job.advance))

        try:
            error = change_as(console, actor, carry_out, account=assign)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        if error is not None:
            job.update(state=REFUSED, error=error)
            return
        report = reports[0]
        job.update(
            state=DONE,
            imported=len(report.imported),
            present=len(report.present),
            present_sample=report.present[:SAMPLE],
        )

    job_id = console.imports.start(page.admin or "?", dry_run, console.clock(), work)
    return page.redirect(f"tokens/import/{job_id}")


def import_status(page: Page, console: Console, job_id: str) -> Response:
    status = console.imports.status(job_id)
    if status is None:
        return page.message(404, "not_found")
    return page.render(
        "import_status",
        400 if status.state == REFUSED else 200,
        job=status,
        refresh=REFRESH if status.running else None,
        error=status.error,
        targets=TARGETS,
        values={},
    )


ROUTES = [
    ("tokens/import", "token_import_form", ["GET"], import_form),
    ("tokens/import", "token_import", ["POST"], import_file),
    ("tokens/import/<job_id>", "token_import_status", ["GET"], import_status),
]
