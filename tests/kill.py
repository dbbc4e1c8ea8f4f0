"""Kill a real ``harmonstats`` command midway (SIGKILL), for the tests of interrupted work.

A test starts the command, waits for a point of its progress (some outputs finished, drawn at
random by the test), lets it run a random moment more, kills it with SIGKILL (no handler runs,
as after ``kill -9`` or a lost machine), then checks what it left and that a rerun finishes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["command", "files", "kill_midway", "run", "visible"]


def command(*args: str) -> list[str]:
    """``python -m harmonstats ARGS`` with this interpreter."""
    return [sys.executable, "-m", "harmonstats", *args]


def kill_midway(
    argv: Sequence[str],
    *,
    ready: Callable[[], bool],
    delay: float = 0.0,
    cwd: Path | None = None,
    timeout: float = 300.0,
) -> None:
    """Run ``argv`` until ``ready()`` holds, ``delay`` seconds more, then SIGKILL it.

    Raises AssertionError if the command ends before it is killed (the test would then check
    nothing about interrupted work) or does not get ready within ``timeout`` seconds.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise AssertionError(f"{argv[3:5]} ended (exit {proc.returncode}) before the "
                                     f"kill point: {err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{argv[3:5]} did not reach the kill point in {timeout} s")
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the command finished before it was killed"


def run(argv: Sequence[str], *, cwd: Path | None = None) -> None:
    """Run a command to its end; raise with its stderr if it fails."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


def visible(path: Path) -> bool:
    """Not hidden: no part of the path starts with ``.`` (writers' temporary files are)."""
    return not any(part.startswith(".") for part in path.parts)


def files(root: Path, pattern: str = "*") -> dict[str, bytes]:
    """Relative path -> bytes of every visible file under ``root`` matching ``pattern``."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(pattern))
            if p.is_file() and visible(p.relative_to(root))}
