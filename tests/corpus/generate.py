"""Writes the bad-input corpus: one file of raw request-body bytes per case, and ``cases.json``.

The files are committed; this script is how they were made, so a case can be changed or added
readably (``python tests/corpus/generate.py`` rewrites every file and the manifest). The cases
are written in ``sections/``, one module per kind of bad input, with the builders they share in
``sections/build.py``. Each manifest entry says:

``file``          the body, byte for byte as it goes on the wire (after the placeholders below)
``content_type``  the request's Content-Type header, or null for none
``soap``          "1.1" or "1.2": the version the answer must have (the Content-Type's version;
                  SOAP 1.1 for a Content-Type that is neither, as the 415 fault is)
``expect``        "fault:Client" / "fault:Sender" / "fault:VersionMismatch" (a SOAP Fault with that
                  code), or "code:NNNN" (a normal 200 CP2Response with that return code)
``status``        the HTTP status (500 for faults and 200 for codes unless given)
``template``      optional {"encoding": E, "account": A}: the file contains the placeholders
                  ``{code}`` (the code of A's token valid at the server's current time-step) and/or
                  ``{xxe_port}`` (a loopback port the test listens on, to see that nothing connects),
                  spelled in encoding E; the test substitutes them before sending
``settings``      optional setting overrides for the server the case needs (say why in ``about``)
``forbidden``     optional strings that must not appear in the answer
``about``         what the case is

``accounts`` (top level) are the extra accounts the tests and the fuzz target add to the store,
each with one active SHA1/6/30 TOTP token of the given base32 secret.
"""

import json

from sections import encodings, entities, framing, malformed, values
from sections.build import ACCOUNTS, CASES, HERE


def generate() -> None:
    for old in HERE.iterdir():
        if old.name not in ("generate.py", ".gitattributes") and old.is_file():
            old.unlink()
    malformed.add()
    entities.add()
    framing.add()
    encodings.add()
    values.add()

    manifest = {
        "about": "Bad-input corpus; see generate.py for the fields.",
        "accounts": ACCOUNTS,
        "cases": CASES,
    }
    (HERE / "cases.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    generate()
    print(f"{len(CASES)} cases written to {HERE}")
