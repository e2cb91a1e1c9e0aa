"""Lets spyne 2.14 (the last release) import on Python 3.12 and 3.13.

* 3.12+: spyne vendors ``six`` 1.14 as ``spyne.util.six``. Its import hook for ``six.moves`` only
  has the ``find_module`` protocol, which Python 3.12 no longer calls, so every
  ``spyne.util.six.moves.*`` import fails. We load spyne's own copy (it carries spyne-only
  additions such as ``moves.collections_abc`` and ``get_function_name``) before spyne does, and
  give its hook the ``find_spec``/``create_module``/``exec_module`` methods that six 1.16 added
  for the same reason.
* 3.13: the ``cgi`` module spyne uses (``parse_header``) left the standard library; the
  ``legacy-cgi`` package, installed only there (a marker in setup.cfg), provides it.

Import this module before anything from spyne; ``gspws.soap`` does.
"""

import importlib.util
import sys
from pathlib import Path

_VENDORED_SIX = "spyne.util.six"


def _load_vendored_six() -> None:
    if _VENDORED_SIX in sys.modules:
        return
    spyne = importlib.util.find_spec("spyne")
    assert spyne is not None and spyne.submodule_search_locations  # (a dependency, a package)
    spyne_dir = Path(spyne.submodule_search_locations[0])
    spec = importlib.util.spec_from_file_location(_VENDORED_SIX, spyne_dir / "util" / "six.py")
    assert spec is not None and spec.loader is not None  # (a .py file path always has both)
    six = importlib.util.module_from_spec(spec)
    sys.modules[_VENDORED_SIX] = six
    spec.loader.exec_module(six)

    hook = six._SixMetaPathImporter

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.known_modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    hook.find_spec = find_spec
    hook.create_module = lambda self, spec: self.load_module(spec.name)
    hook.exec_module = lambda self, module: None


if sys.version_info >= (3, 12):  # pragma: no cover - depends on the interpreter
    _load_vendored_six()
