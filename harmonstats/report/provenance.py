"""Provenance of a report: command, configuration, seeds, git commit, software, input hashes.

Hashing every label map of a large study each time a report is rendered would dominate a rerun,
so :func:`hash_inputs` reuses the digests recorded by a previous report for files whose size and
modification time have not changed, and hashes only the rest (in threads: hashing is I/O bound
and hashlib releases the GIL).

References
----------
Gorgolewski et al. (2016), The brain imaging data structure (BIDS); provenance in sidecars.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harmonstats.io import file_sha256

__all__ = [
    "SOFTWARE",
    "git_commit",
    "hash_inputs",
    "previous_hashes",
    "run_record",
    "software_versions",
]

#: Distributions whose versions the report records.
SOFTWARE: tuple[str, ...] = (
    "harmonstats",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "pingouin",
    "scikit-learn",
    "nibabel",
    "antspyx",
    "torch",
    "monai",
    "matplotlib",
    "seaborn",
    "jinja2",
    "pydantic",
)

def hash_inputs(
    paths: Iterable[str | os.PathLike[str]],
    *,
    previous: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int = 4,
) -> list[dict[str, Any]]:
    """Size and SHA-256 of input files, reusing earlier digests of unchanged files.

    Parameters
    ----------
    paths : iterable of path
        Files to describe (duplicates are described once).
    previous : mapping, optional
        Absolute path -> earlier record (``size``, ``mtime_ns``, ``sha256``), e.g. from the
        ``provenance.json`` of the report being replaced.
    workers : int
        Threads hashing files.

    Returns
    -------
    list of dict
        One record per file, in input order: ``path`` (absolute), ``size`` (bytes),
        ``mtime_ns`` (ns since the epoch), ``sha256`` (hex).
    """
    unique = list(dict.fromkeys(str(Path(p).resolve()) for p in paths))
    previous = previous or {}
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for path in unique:
        st = os.stat(path)
        record = {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": ""}
        old = previous.get(path)
        if old and old.get("size") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns:
            record["sha256"] = str(old["sha256"])
        else:
            todo.append(path)
        records[path] = record
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for path, digest in zip(todo, pool.map(file_sha256, todo), strict=True):
            records[path]["sha256"] = digest
    return [records[p] for p in unique]


def previous_hashes(report_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Input records of the report already in ``report_dir`` (empty if none or unreadable)."""
    path = Path(report_dir) / "provenance.json"
    try:
        inputs = json.loads(path.read_text())["inputs"]
        return {str(r["path"]): r for r in inputs}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def git_commit(path: str | os.PathLike[str] | None = None) -> str | None:
    """Commit of the git checkout holding ``path`` (default: this package), '+dirty' if changed.

    None when not in a git checkout or git is not installed.
    """
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where, capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return commit + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def software_versions(names: Iterable[str] = SOFTWARE) -> dict[str, str]:
    """Installed version of each distribution (``not installed`` when absent)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _program() -> str:
    """How this process was started: ``python -m harmonstats.report`` or the script's name."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "__main__.py":
        package = Path(__file__).resolve().parents[2]
        try:
            module = ".".join(argv0.resolve().parent.relative_to(package).parts)
        except ValueError:
            module = argv0.parent.name
        return f"python -m {module}"
    return argv0.name


def run_record(command: Iterable[str] | None = None) -> dict[str, Any]:
    """Command line, working folder, time, platform and git commit of this run."""
    from harmonstats import __version__

    line = shlex.join(command) if command is not None else " ".join(
        [_program(), *map(shlex.quote, sys.argv[1:])])
    return {
        "command": line,
        "working_directory": os.getcwd(),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "harmonstats_version": __version__,
        "git_commit": git_commit() or "not in a git checkout",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
