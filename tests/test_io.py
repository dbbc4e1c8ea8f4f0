from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from harmonstats.io import (
    atomic_path,
    file_sha256,
    load_nifti,
    read_table,
    save_nifti,
    write_table,
)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_table_roundtrip_with_sidecar(tmp_path):
    df = pd.DataFrame({"participant_id": ["01", "02"], "value": [1.5, np.nan]})
    write_table(df, tmp_path / "t.tsv", {"value": {"Description": "a value", "Units": "mm"}})
    back = read_table(tmp_path / "t.tsv")
    assert back["participant_id"].tolist() == ["01", "02"]
    assert np.isnan(back["value"][1])
    assert "n/a" in (tmp_path / "t.tsv").read_text()
    assert '"Units": "mm"' in (tmp_path / "t.json").read_text()


def test_nifti_deterministic_and_spacing(tmp_path):
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    affine = np.diag([0.5, 0.6, 0.7, 1.0])
    a = save_nifti(data, affine, tmp_path / "a.nii.gz")
    b = save_nifti(data, affine, tmp_path / "b.nii.gz")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    img = load_nifti(a)
    np.testing.assert_allclose(img.header.get_zooms(), (0.5, 0.6, 0.7))
    np.testing.assert_array_equal(np.asanyarray(img.dataobj), data)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.nii\.gz"):
        load_nifti(tmp_path / "missing.nii.gz")
    good = save_nifti(np.zeros((8, 8, 8), np.float32), np.eye(4), tmp_path / "g.nii.gz")
    corrupt = tmp_path / "c.nii.gz"
    corrupt.write_bytes(good.read_bytes()[:60])
    with pytest.raises(ValueError, match=r"cannot read NIfTI file .*c\.nii\.gz"):
        load_nifti(corrupt, what="sub-01 label map")
    four_d = save_nifti(np.zeros((4, 4, 4, 2), np.float32), np.eye(4), tmp_path / "d.nii.gz")
    with pytest.raises(ValueError, match="expected a 3D volume"):
        load_nifti(four_d)


def test_written_files_have_umask_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = save_nifti(np.zeros((2, 2, 2), np.uint8), np.eye(4), tmp_path / "p.nii.gz")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 in (0o644, 0o666 & ~mask)


def test_file_sha256_matches_hashlib(tmp_path):
    import hashlib

    data = bytes(range(256)) * 9000  # spans several 1 MiB chunks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
