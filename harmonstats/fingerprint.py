"""Fingerprints of harmonstats' own source code, for caches that must not outlive the code.

A cached result (a measured subject, the demo's synthetic study) is only valid for the code that
made it. The package version alone does not change while the code is being worked on, so caches
also key on a hash of the source files of the subpackages that produced the result.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["source_fingerprint"]

_ROOT = Path(__file__).parent


@functools.cache
def source_fingerprint(*subpackages: str) -> str:
    """Short SHA-256 of the ``.py`` files of ``harmonstats.<subpackage>`` (all of them, sorted).

    Parameters
    ----------
    *subpackages : str
        Subpackage or module names relative to ``harmonstats`` (e.g. ``"synth"``, ``"labels"``).
    """
    digest = hashlib.sha256()
    for name in sorted(subpackages):
        base = _ROOT / name
        files = sorted(base.rglob("*.py")) if base.is_dir() else [_ROOT / f"{name}.py"]
        if not files or not files[0].is_file():
            raise ValueError(f"no harmonstats source for {name!r}")
        for path in files:
            digest.update(str(path.relative_to(_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
