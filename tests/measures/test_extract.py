from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kill import command, kill_midway
from measures_helpers import SPACING, SUBJECTS

from harmonstats.cli import main
from harmonstats.cohort import Cohort
from harmonstats.io import load_nifti, read_table, save_nifti
from harmonstats.measures import measure_cohort, measure_study, write_measures

VOX = SPACING[0] * SPACING[1] * SPACING[2]


def test_table_values_against_files(study: Path) -> None:
    with pytest.warns(RuntimeWarning, match="sub-tgt001 \\(original\\).*no cortical GM"):
        df = measure_study(study, progress=False)
    assert list(df.columns) == ["participant_id", "session_id", "cohort", "method", "measure",
                                "value", "unit"]
    # 3 subjects x (original: 25 measures with Dice; truth: 19, no Dice against itself)
    assert len(df) == 3 * (25 + 19)
    v = df.set_index(["participant_id", "method", "measure"])["value"]
    for pid, (r_wm, r_gm) in SUBJECTS.items():
        truth = np.asarray(load_nifti(study / f"sub-{pid}/anat/sub-{pid}_desc-truth_dseg.nii.gz")
                           .dataobj)
        original = np.asarray(
            load_nifti(study / f"sub-{pid}/anat/sub-{pid}_desc-original_dseg.nii.gz").dataobj)
        assert v[f"sub-{pid}", "truth", "volume_wm"] == pytest.approx((truth == 3).sum() * VOX)
        assert v[f"sub-{pid}", "truth", "icv"] == pytest.approx((truth > 0).sum() * VOX)
        assert v[f"sub-{pid}", "truth", "thickness_mean"] == pytest.approx(r_gm - r_wm, abs=0.1)
        # the two halves of the ribbon carry regions 1 (frontal_l) and 2 (frontal_r)
        assert v[f"sub-{pid}", "truth", "thickness_frontal_l"] == pytest.approx(r_gm - r_wm,
                                                                                abs=0.15)
        assert np.isnan(v[f"sub-{pid}", "truth", "thickness_occipital_r"])
        inter = ((truth == 3) & (original == 3)).sum()
        expected = 2 * inter / ((truth == 3).sum() + (original == 3).sum())
        assert v[f"sub-{pid}", "original", "dice_wm"] == pytest.approx(expected)
    assert np.isnan(v["sub-tgt001", "original", "thickness_mean"])
    assert v["sub-tgt001", "original", "dice_cgm"] == 0.0
    assert df.loc[df["measure"] == "icv", "unit"].eq("mm3").all()
    assert df["session_id"].isna().all()
    assert set(df.loc[df["participant_id"] == "sub-tgt001", "cohort"]) == {"target"}


def test_cache_hit_and_invalidation(study: Path) -> None:
    cohort = Cohort.from_bids(study)
    with pytest.warns(RuntimeWarning):
        first = measure_cohort(cohort, progress=False)
    assert first.attrs["tasks"] == {"computed": 6, "cached": 0}
    files = sorted((study / ".harmonstats-cache").rglob("*.json"))
    assert len(files) == 6
    mtimes = [f.stat().st_mtime_ns for f in files]
    with pytest.warns(RuntimeWarning, match="no cortical GM"):  # cached warnings come back
        again = measure_cohort(cohort, progress=False)
    assert again.attrs["tasks"] == {"computed": 0, "cached": 6}
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    pd.testing.assert_frame_equal(first, again)
    # a changed input file is measured again; the others come from the cache
    path = study / "sub-src002/anat/sub-src002_desc-original_dseg.nii.gz"
    img = load_nifti(path)
    data = np.asarray(img.dataobj).copy()
    data[0, 0, 0] = 1
    save_nifti(data, img.affine, path)
    with pytest.warns(RuntimeWarning):
        third = measure_cohort(cohort, progress=False)
    assert third.attrs["tasks"] == {"computed": 1, "cached": 5}
    changed = third.set_index(["participant_id", "method", "measure"])["value"]
    assert changed["sub-src002", "original", "volume_csf"] == pytest.approx(
        first.set_index(["participant_id", "method", "measure"])["value"][
            "sub-src002", "original", "volume_csf"] + VOX)


def test_resume_after_failure(study: Path, tmp_path: Path) -> None:
    cohort = Cohort.from_bids(study)
    bad = study / "sub-tgt001/anat/sub-tgt001_desc-truth_dseg.nii.gz"
    good = bad.read_bytes()
    bad.write_bytes(b"not a nifti file")
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"sub-tgt001 \(original\).*reference.*not a|"
                                         r"sub-tgt001.*cannot read"):
        measure_cohort(cohort, cache_dir=cache, progress=False)
    assert len(list(cache.rglob("*.json"))) == 4  # src001 and src002 finished before the error
    bad.write_bytes(good)
    with pytest.warns(RuntimeWarning):
        df = measure_cohort(cohort, cache_dir=cache, progress=False)
    assert df.attrs["tasks"] == {"computed": 2, "cached": 4}
    with pytest.warns(RuntimeWarning):
        fresh = measure_cohort(cohort, cache_dir=tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(df, fresh)


def test_missing_file_names_subject(study: Path) -> None:
    cohort = Cohort.from_bids(study)
    (study / "sub-src002/anat/sub-src002_desc-original_dseg.nii.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"sub-src002 \(original\).*desc-original"):
        measure_cohort(cohort, progress=False)


def test_processes_and_dask_give_the_same_table(study: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    cohort = Cohort.from_bids(study)
    with pytest.warns(RuntimeWarning):
        local = measure_cohort(cohort, cache_dir=tmp_path / "a", progress=False)
    with pytest.warns(RuntimeWarning):
        procs = measure_cohort(cohort, jobs=2, cache_dir=tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(local, procs)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.warns(RuntimeWarning):
            dask = measure_cohort(cohort, scheduler=client, cache_dir=tmp_path / "c",
                                  progress=False)
        assert dask.attrs["tasks"]["computed"] == 6
        with pytest.warns(RuntimeWarning):
            by_address = measure_cohort(cohort, scheduler=cluster.scheduler_address,
                                        cache_dir=tmp_path / "d", progress=False)
    pd.testing.assert_frame_equal(local, dask)
    pd.testing.assert_frame_equal(local, by_address)


def test_write_measures_round_trip(study: Path, tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning):
        df = measure_study(study, methods=["original"], thickness="laplace", progress=False)
    out = write_measures(df, tmp_path / "out" / "measures.tsv")
    back = read_table(out)
    pd.testing.assert_frame_equal(back[["participant_id", "method", "measure", "unit"]],
                                  df[["participant_id", "method", "measure", "unit"]])
    np.testing.assert_allclose(back["value"], df["value"], rtol=1e-12)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["Provenance"]["thickness"]["method"] == "laplace"
    assert "harmonstats_version" in sidecar["Provenance"]
    assert set(sidecar) >= {"participant_id", "value", "unit", "measure"}


def test_cli_writes_table_or_nothing(study: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "res" / "measures.tsv"
    with pytest.warns(RuntimeWarning):
        code = main(["measure", str(study), "--methods", "original,truth", "--jobs", "1",
                     "--no-progress", "--cache", str(tmp_path / "cache"), "--out", str(out)])
    assert code == 0
    assert len(read_table(out)) == 3 * (25 + 19)
    (study / "sub-src001/anat/sub-src001_desc-truth_dseg.nii.gz").write_bytes(b"\x1f\x8bjunk")
    failed = tmp_path / "res2" / "measures.tsv"
    assert main(["measure", str(study), "--out", str(failed), "--no-progress"]) == 2
    assert "sub-src001" in capsys.readouterr().err
    assert not failed.parent.exists() or not any(failed.parent.iterdir())


def test_bad_arguments(study: Path) -> None:
    cohort = Cohort.from_bids(study)
    with pytest.raises(ValueError, match="unknown method"):
        measure_cohort(cohort, methods=["latent"], progress=False)
    with pytest.raises(ValueError, match="unknown thickness method"):
        measure_cohort(cohort, thickness="fast", progress=False)
    with pytest.warns(RuntimeWarning, match="reference method 'manual'"):
        df = measure_cohort(cohort, reference="manual", methods=["truth"], progress=False)
    assert not df["measure"].str.startswith("dice_").any()


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("disk full")


def test_write_is_atomic(study: Path, tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning):
        df = measure_study(study, progress=False)
    out = write_measures(df, tmp_path / "measures.tsv")
    before = out.read_bytes()
    broken = df.astype({"value": object})
    broken.loc[len(df) // 2, "value"] = _Unprintable()  # fails halfway through the rows
    with pytest.raises(RuntimeError, match="disk full"):
        write_measures(broken, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measures.json", "measures.tsv",
                                                          "study"]


def test_warnings_of_one_kind_are_grouped_and_name_the_subjects():
    import warnings as _w

    from harmonstats.measures.extract import _warn_grouped

    messages = [f"subject sub-s{i} (truth): {i + 1} cortical GM voxels left out" for i in range(5)]
    messages.append("subject sub-x1 (original): no cortical GM voxels; thickness set to NaN")
    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        _warn_grouped(messages)
    texts = [str(c.message) for c in caught]
    assert len(texts) == 2
    assert texts[0].startswith("5 label maps: N cortical GM voxels left out (sub-s0 (truth), ")
    assert "sub-s4 (truth)" in texts[0]
    assert texts[1] == messages[-1]


@pytest.mark.slow
def test_resume_after_kill(tmp_path: Path) -> None:
    """SIGKILL a real `harmonstats measure` midway: the rerun recomputes only what was not done."""
    import warnings

    from harmonstats.synth import synthesize_study

    study = synthesize_study(tmp_path / "study", n_source=6, n_target=6, shape=48, spacing=0.6,
                             seed=1, progress=False)
    cache = tmp_path / "cache"
    out = tmp_path / "measures.tsv"

    def finished() -> int:
        # a kill can leave a writer's temporary file (hidden, '.<name>.tmp.json'): not a result
        return sum(not p.name.startswith(".") for p in cache.rglob("*.json"))

    kill_midway(command("measure", str(study), "--methods", "original,truth", "--jobs", "1",
                        "--cache", str(cache), "--out", str(out)),
                ready=lambda: finished() >= 2)
    done = finished()
    assert 2 <= done < 24, "the run must be killed midway"
    assert not out.exists()  # no half-written table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # isolated GM voxels; not what this test is about
        df = measure_cohort(Cohort.from_bids(study, methods=["original", "truth"]),
                            cache_dir=cache, jobs=1, progress=False)
    assert df.attrs["tasks"] == {"computed": 24 - done, "cached": done}
    assert df["value"][df["measure"] == "thickness_mean"].notna().all()
