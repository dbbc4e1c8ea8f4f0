from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from harmonstats.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_module_has_the_interface(name):
    module = importlib.import_module(COMMANDS[name][0])
    assert callable(module.add_arguments) and callable(module.run)


def test_unknown_command_fails(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["nope"])
    assert exc.value.code == 2


def test_user_error_is_one_line_with_exit_code_2(tmp_path, capsys):
    code = main(["measure", str(tmp_path / "absent"), "--out", str(tmp_path / "m.tsv")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("harmonstats measure: error:") and "absent" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "m.tsv").exists()


def test_python_dash_m_runs_without_importing_torch():
    code = (
        "import sys, runpy; sys.argv=['harmonstats','--version']\n"
        "try:\n    runpy.run_module('harmonstats', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "harmonstats 0.1.0" in out.stdout
    assert out.stdout.strip().endswith("False")


def test_every_public_name_resolves():
    import harmonstats as hs

    for name in hs.__all__:
        assert getattr(hs, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = hs.nope
