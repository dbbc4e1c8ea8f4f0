"""Every bad input of ``tests/bad_inputs.py`` through the ``harmonstats`` command: exit 2, one
line naming what is wrong, no traceback, nothing written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from bad_inputs import CASES, MEASURE, VALIDATE, Case, snapshot, write_base

from harmonstats.cli import COMMANDS, main


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_base(tmp_path_factory.mktemp("bad_inputs") / "base")


def _prepare(case: Case, base: Path, tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "case"
    shutil.copytree(base, folder)
    case.change(folder)
    return folder, snapshot(folder)


@pytest.mark.parametrize("command", [MEASURE, VALIDATE], ids=["measure", "validate"])
def test_the_valid_inputs_pass(command: list[str], base: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "case"
    shutil.copytree(base, folder)
    monkeypatch.chdir(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(command) == 0


@pytest.mark.parametrize("case", CASES, ids=[c.what for c in CASES])
def test_bad_input(case: Case, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder, before = _prepare(case, base, tmp_path)
    monkeypatch.chdir(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(case.command)
    out, err = capsys.readouterr()
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and not out, err
    assert lines[0].startswith(f"harmonstats {case.command[0]}: error: ")
    assert re.search(case.expect, lines[0]), lines[0]
    assert [str(w.message) for w in caught] == []
    assert snapshot(folder) == before, "the failed command wrote files"
    assert not (folder / "pwned").exists()


# In a real process: nothing else (a warning, a traceback) reaches stderr.
SUBPROCESS = ["participants: a 300-character ID", "checkpoint: would run code when loaded",
              "study YAML: not YAML", "train: init_from a checkpoint that would run code"]


@pytest.mark.parametrize("what", SUBPROCESS)
def test_bad_input_in_a_process(what: str, base: Path, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.what == what)
    folder, before = _prepare(case, base, tmp_path)
    result = subprocess.run([sys.executable, "-m", "harmonstats", *case.command], cwd=folder,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert re.search(case.expect, result.stderr)
    assert snapshot(folder) == before
    assert not (folder / "pwned").exists()


@pytest.mark.parametrize(("body", "error"), [
    ("{}['missing']", KeyError),
    ("len(3)", TypeError),
    ("numpy.zeros(2) + numpy.zeros(3)", ValueError),  # raised inside a library: a bug too
])
def test_a_bug_keeps_its_traceback(body: str, error: type[Exception], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Only input errors become one line; any other exception propagates to its traceback."""
    module = f"buggy_{error.__name__.lower()}"
    (tmp_path / f"{module}.py").write_text(
        f"import numpy\n\ndef add_arguments(parser):\n    pass\n\n"
        f"def run(args):\n    return {body}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(COMMANDS, "buggy", (module, "a command with a bug"))
    with pytest.raises(error):
        main(["buggy"])
