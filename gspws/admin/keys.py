"""Keys: where the encryption keys come from, their fingerprints (the first 8 hex digits of
their SHA-256, as ``gspws keys status``), and how many token secrets each protects. Never a key.

Counting opens every token secret (gspws.store.rotation.census), a minute for millions of tokens:
it runs when asked (a button), not on every view of the page."""

from werkzeug.wrappers import Response

from gspws.admin.app import Console, Page
from gspws.store import rotation
from gspws.store.secrets import key_source


def keys(page: Page, console: Console) -> Response:
    source = key_source(console.settings)
    counts = None
    if page.request.args.get("count") == "1":  # every kind of secret under the keys, summed
        counts = rotation.Census()
        for kind in rotation.ENCRYPTED:
            one = rotation.census(console.store.engine, source.keys, kind=kind)
            counts.total += one.total
            counts.first_key += one.first_key
            counts.older_keys += one.older_keys
            counts.unreadable += one.unreadable
    return page.render(
        "keys",
        description=source.description,
        fingerprints=source.fingerprints,
        counts=counts,
    )


ROUTES = [("keys", "keys", ["GET"], keys)]
