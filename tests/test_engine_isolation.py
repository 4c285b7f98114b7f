"""The engine never imports streamlit (checked in a fresh interpreter)."""
import pkgutil
import subprocess
import sys

import ganlab


def test_engine_does_not_import_streamlit():
    mods = sorted(m.name for m in pkgutil.walk_packages(ganlab.__path__, "ganlab.")
                  if not m.name.endswith("__main__"))
    assert "ganlab.train.trainer" in mods and "ganlab.cli" in mods
    code = ("import importlib, sys\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "bad = sorted(k for k in sys.modules if k == 'streamlit' or k.startswith('streamlit.'))\n"
            "print(len(sys.modules)); assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) > 100  # the modules really were imported
