from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from figure_counts import visible_axes

from harmonstats.cohort import Cohort
from harmonstats.figures.qc import plot_qc_mosaic
from harmonstats.io import save_nifti


@pytest.fixture
def cohort(tmp_path: Path) -> Cohort:
    """Five source and three target subjects, a T2w image and one method's labels each."""
    affine = np.eye(4)
    rows, labels, images = [], {"model": {}}, {}
    for i in range(8):
        pid = f"sub-p{i}"
        lab = np.zeros((12, 12, 10), np.uint8)
        lab[2:10, 2:10, 2 + i % 3:8] = 3
        labels["model"][pid] = save_nifti(lab, affine, tmp_path / f"{pid}_dseg.nii.gz")
        images[pid] = save_nifti(lab.astype(np.float32) * 10, affine, tmp_path / f"{pid}.nii.gz")
        rows.append({"participant_id": pid, "cohort": "source" if i < 5 else "target",
                     "ga_birth": 38.0, "pma_scan": 40.0, "sex": "M"})
    return Cohort(participants=pd.DataFrame(rows), labels=labels, images=images)


def test_mosaic_one_panel_per_subject_flagged_in_red(cohort: Cohort) -> None:
    qc = pd.DataFrame({"participant_id": ["sub-p1", "sub-p1", "sub-p6"], "method": "model",
                       "flag": [1.0, 1.0, 0.0]})
    fig = plot_qc_mosaic(cohort, "model", qc=qc, columns=4)
    axes = visible_axes(fig)
    assert len(axes) == 8  # 5 source in two rows of 4, 3 target in one row
    titles = [ax.get_title() for ax in axes]
    assert titles[0] == "sub-p1 (2)"  # flagged subjects first in their group
    assert set(titles[1:5]) == {"sub-p0", "sub-p2", "sub-p3", "sub-p4"}
    assert set(titles[5:]) == {"sub-p5", "sub-p6", "sub-p7"}
    assert axes[0].spines["top"].get_edgecolor()[:3] != axes[1].spines["top"].get_edgecolor()[:3]
    # the slice passes through the centre of the labelled brain (axial: voxel axis 2);
    # p0's brain spans z 2..7, so z 4
    p0 = axes[titles.index("sub-p0")].images[1].get_array()
    expected = np.zeros((12, 12, 10), np.uint8)
    expected[2:10, 2:10, 2:8] = 3
    assert np.array_equal(p0.filled(0), expected[:, :, 4].T)
    assert (axes[0].get_ylabel(), axes[5].get_ylabel()) == ("source", "target")


def test_mosaic_limits_and_errors(cohort: Cohort) -> None:
    fig = plot_qc_mosaic(cohort, "model", columns=3, max_per_group=2, plane="coronal")
    assert len(visible_axes(fig)) == 4
    with pytest.raises(ValueError, match="unknown method"):
        plot_qc_mosaic(cohort, "nope")
    with pytest.raises(ValueError, match="unknown plane"):
        plot_qc_mosaic(cohort, "model", plane="oblique")
