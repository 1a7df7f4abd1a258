"""The example plugin is a distribution of its own: ``scripts/test`` installs it (``pip install -e``) before
pytest. Run by hand without it, it is installed here, at collection, so that the app factory's entry-point
discovery finds it when the ``template`` and ``app`` fixtures run."""
from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

DIST = Path(__file__).parent / "jizuo_hello"


def _ensure_installed() -> None:
    try:
        importlib.metadata.distribution("jizuo-hello")
        return
    except importlib.metadata.PackageNotFoundError:
        pass
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e",
                    str(DIST)], check=True)
    # the editable install's .pth is read at interpreter start only: this process finds the package by path
    sys.path.insert(0, str(DIST))
    importlib.invalidate_caches()


_ensure_installed()
