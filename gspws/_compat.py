"""Lets spyne 2.14 (the last release) import on Python 3.12 and 3.13.

* 3.12+: spyne vendors an old ``six`` (``spyne.util.six``) whose import hook lacks ``find_spec``,
  which Python 3.12 removed the fallback for. The maintained ``six`` works; we register it under
  the vendored name before spyne is imported.
* 3.13: the ``cgi`` module spyne uses (``parse_header``) was removed from the standard library;
  the ``legacy-cgi`` package provides it under the same name.

Both packages are installed only on the interpreters that need them (markers in setup.cfg).
Import this module before anything from spyne; ``gspws.soap`` does.
"""

import sys

if sys.version_info >= (3, 12):  # pragma: no cover - depends on the interpreter
    import six

    sys.modules.setdefault("spyne.util.six", six)
    sys.modules.setdefault("spyne.util.six.moves", six.moves)
