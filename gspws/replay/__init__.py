"""Record SOAP exchanges and replay them, comparing each answer with the recorded one.

Testers migrating an agency from the GSP service capture what its systems really send, replay it
against gspws and see at once where the answers differ. Reading order:

    recorder.py   WSGI middleware behind ``gspws serve --record DIR``
    recording.py  the on-disk format of one exchange (written atomically)
    messages.py   HTTP requests and responses as bytes (ours, Fiddler's, curl's)
    capture.py    a directory of recordings and foreign captures -> exchanges in order
    fixtures.py   the store a recording was made against, as a JSON file
    compare.py    do two answers mean the same? (XML meaning, not bytes)
    runner.py     send every exchange in-process (frozen clock) or to a live server
    report.py     the diff per envelope, the table, JUnit XML
"""
