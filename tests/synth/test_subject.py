from __future__ import annotations

import numpy as np
import pytest

from harmonstats.synth import SubjectSpec, synthesize_subject
from harmonstats.synth.anatomy import build_anatomy
from harmonstats.synth.geometry import draw_geometry

SHAPE, SPACING = 48, 0.625


def _gm_volume_change(target: float) -> tuple[float, float]:
    """cGM volume (mm3) and mean true thickness (mm) with 10 regions at ``target`` mm;
    occipital_r fixed at 2.2 mm."""
    thickness = np.full(11, target)
    thickness[10] = 2.2  # keeps the thickest region, hence the geometry, the same
    geom = draw_geometry(41.0, 40.0, thickness, SHAPE * SPACING, np.random.default_rng(5))
    anat = build_anatomy(geom, (SHAPE,) * 3, SPACING)
    cortex = anat.labels == 2
    return float(cortex.sum() * SPACING**3), float(anat.truth[cortex].mean())


def test_sub_voxel_thickness_changes_show_in_the_labels():
    (v14, t14), (v15, _t15), (v16, t16) = (_gm_volume_change(t) for t in (1.4, 1.5, 1.6))
    # 0.1 mm (a sixth of a voxel) more cortex adds about as much cortex each time ...
    assert v15 > v14 and v16 > v15
    assert (v16 - v15) == pytest.approx(v15 - v14, rel=0.25)
    # ... and the true thickness of the cortex the labels hold follows the drawn one: up by
    # 0.1 mm on 10 of the 11 regions.
    assert (t16 - t14) / 2 == pytest.approx(0.1 * 10 / 11, abs=0.02)


@pytest.mark.parametrize(("cohort", "low", "high"), [("source", -0.03, 0.03),
                                                      ("target", 0.05, 0.25)])
def test_original_labels_bias(cohort, low, high):
    spec = SubjectSpec("x1", cohort, ga_birth=30.0, pma_scan=41.0, sex="F")
    vol = synthesize_subject(spec, shape=SHAPE, spacing=SPACING, seed=11)
    gm_truth = (vol.truth == 2).sum()
    gm_orig = (vol.original == 2).sum()
    assert low < (gm_orig - gm_truth) / gm_truth < high
    changed = vol.truth != vol.original
    # Only the cortical boundaries move: every changed voxel is cortex in one of the two maps.
    assert ((vol.truth[changed] == 2) | (vol.original[changed] == 2)).all()
    if cohort == "target":
        assert vol.original_bias == pytest.approx(0.2, abs=0.12)
        grown = (vol.truth == 1) & (vol.original == 2)
        shrunk = (vol.truth == 2) & (vol.original == 1)
        assert grown.sum() > 5 * shrunk.sum()
    else:
        assert vol.original_bias == 0.0


def test_contrast_by_domain():
    means = {}
    for cohort in ("source", "target"):
        spec = SubjectSpec("x1", cohort, ga_birth=39.0, pma_scan=41.0, sex="M")
        vol = synthesize_subject(spec, shape=SHAPE, spacing=SPACING, seed=2)
        core = vol.truth  # tissue means, away from partial volume enough at this size
        means[cohort] = {c: float(vol.t2w[core == c].mean()) for c in (1, 2, 3, 4)}
    src, tgt = means["source"], means["target"]
    assert src[1] > src[3] > src[4] > src[2]  # CSF > WM > dGM > cGM (neonatal T2w)
    assert (tgt[1] - tgt[2]) < (src[1] - src[2])  # lower GM/CSF contrast in the target


def test_seed_reproducible_in_memory():
    spec = SubjectSpec("x1", "target", ga_birth=28.0, pma_scan=42.0, sex="F")
    a = synthesize_subject(spec, shape=32, spacing=1.0, seed=np.random.SeedSequence(4))
    b = synthesize_subject(spec, shape=32, spacing=1.0, seed=np.random.SeedSequence(4))
    np.testing.assert_array_equal(a.t2w, b.t2w)
    np.testing.assert_array_equal(a.original, b.original)
    assert a.thickness == b.thickness


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"cohort": "other"}, "cohort must be one of"), ({"sex": "X"}, "sex must be"),
     ({"ga_birth": 10.0}, "ga_birth must be between"),
     ({"pma_scan": float("nan")}, "pma_scan must be between")],
)
def test_spec_errors_name_the_subject(kwargs, match):
    base = {"participant_id": "tgt007", "cohort": "target", "ga_birth": 28.0, "pma_scan": 41.0,
            "sex": "F"}
    with pytest.raises(ValueError, match=f"subject tgt007: {match}"):
        SubjectSpec(**{**base, **kwargs})
