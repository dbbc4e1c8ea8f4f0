"""On-disk cache of per-subject measures, keyed by the content of the inputs.

Each finished (subject, method) task is one small JSON file named by a SHA-256 hash of the bytes
of its input files, the thickness method and its parameters, the label schemes and the package
version. A rerun (or a rerun after a killed run) finds the files of every finished task and
recomputes nothing; any change in an input file or a setting gives a new key.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from harmonstats import __version__
from harmonstats.fingerprint import source_fingerprint
from harmonstats.io import file_sha256, write_json
from harmonstats.measures.subject import SubjectTask
from harmonstats.measures.thickness import thickness_params

__all__ = ["MeasureCache", "task_key"]


def task_key(task: SubjectTask) -> str:
    """SHA-256 key of a task: its input bytes, thickness settings, schemes, version and code.

    Raises
    ------
    FileNotFoundError
        If an input file is missing (naming subject, method and file).
    """
    parts: dict[str, Any] = {
        "version": __version__,
        "code": source_fingerprint("measures", "labels", "io"),
        "thickness": thickness_params(task.thickness),
        "scheme": sorted(task.scheme.mapping.items()),
        "region_scheme": sorted(task.region_scheme.mapping.items()),
    }
    for role in ("labels", "regions", "reference"):
        path = getattr(task, role)
        if path is None:
            parts[role] = None
            continue
        if not Path(path).is_file():
            raise FileNotFoundError(f"{task.scan} ({task.method}) {role} file not "
                                    f"found: {path}")
        parts[role] = file_sha256(Path(path))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class MeasureCache:
    """A folder of per-task JSON results (``<dir>/<key[:2]>/<key>.json``).

    Parameters
    ----------
    directory : path
        The cache folder (created on first write).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        """File holding the result of ``key``."""
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> tuple[dict[str, float], list[str]] | None:
        """Return ``(measures, warnings)`` stored under ``key``, or None (also if unreadable)."""
        path = self.path(key)
        try:
            entry = json.loads(path.read_text())
            values = {k: math.nan if v is None else float(v)
                      for k, v in entry["measures"].items()}
            return values, [str(w) for w in entry["warnings"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, task: SubjectTask, values: dict[str, float],
            messages: list[str]) -> Path:
        """Store a task's result atomically (NaN stored as null)."""
        entry = {
            "scan": task.scan,
            "method": task.method,
            "thickness": task.thickness,
            "version": __version__,
            "measures": {k: None if math.isnan(v) else v for k, v in values.items()},
            "warnings": messages,
        }
        return write_json(entry, self.path(key))
