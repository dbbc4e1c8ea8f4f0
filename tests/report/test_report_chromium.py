"""The report in a real browser: it displays (not blank) and holds its sections and figures.

CI installs the browser with ``apt-get update && apt-get install -y chromium``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from harmonstats.report.sections import SECTIONS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (CI: apt-get update && apt-get install -y chromium)",
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           *args], capture_output=True, text=True, timeout=120, check=True)


def test_screenshot_is_not_blank(built_report: Path, tmp_path: Path) -> None:
    png = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,2000",
              built_report.resolve().as_uri())
    assert png.is_file()
    pixels = image.imread(png)
    assert pixels.shape[:2] == (2000, 1280)
    flat = pixels[..., :3].reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) > 50
    assert flat.std(axis=0).max() > 0.05


def test_rendered_dom_has_sections_and_figures(built_report: Path, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", built_report.resolve().as_uri()).stdout
    for key in ["summary", *(s.key for s in SECTIONS), "methods", "provenance"]:
        assert f'<section id="{key}">' in dom, key
    assert dom.count('<img src="data:image/png;base64,') >= 5
    assert 'class="badge bad">different</span>' in dom
    assert "<script" not in dom.lower()
