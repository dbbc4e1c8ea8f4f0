"""Reading and writing files safely: atomic writes, TSV tables with JSON sidecars, NIfTI.

Every file harmonstats writes goes through :func:`atomic_path`: it is written under a temporary
name in the same folder and renamed into place, so a run killed midway never leaves a
half-written table, image or report behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd

__all__ = [
    "atomic_path",
    "file_sha256",
    "load_nifti",
    "read_table",
    "save_nifti",
    "write_json",
    "write_table",
]

def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary name keeps the final suffixes (``.nii.gz``, ``.tsv``) so that libraries that
    choose a format by extension write the right one.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(final.suffixes)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=f".tmp{suffix}", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates files readable by the owner only; give them the usual permissions.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")
    return Path(path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    columns: Mapping[str, str | Mapping[str, Any]] | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a table as TSV with a BIDS-style JSON sidecar, both atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. Missing values are written as ``n/a`` (BIDS).
    path : path-like
        Output ``.tsv`` path; the sidecar is written beside it with suffix ``.json``.
    columns : mapping, optional
        Column name -> description string, or a dict (``Description``, ``Units``, ``Levels``...).
    metadata : mapping, optional
        Extra top-level entries for the sidecar (e.g. provenance).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, na_rep="n/a", lineterminator="\n")
    sidecar: dict[str, Any] = {}
    for name, desc in (columns or {}).items():
        sidecar[name] = {"Description": desc} if isinstance(desc, str) else dict(desc)
    if metadata:
        sidecar.update(metadata)
    write_json(sidecar, path.with_suffix(".json"))
    return path


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a TSV written by :func:`write_table` (``n/a`` as missing, IDs as strings)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"table not found: {path}")
    return pd.read_csv(
        path,
        sep="\t",
        na_values=["n/a"],
        keep_default_na=True,
        dtype={"participant_id": str, "session_id": str},
    )


def save_nifti(
    data: np.ndarray,
    affine: np.ndarray,
    path: str | os.PathLike[str],
    *,
    header: nib.Nifti1Header | None = None,
) -> Path:
    """Save a 3D array as NIfTI atomically, with deterministic bytes for the same input.

    The gzip stream carries no timestamp (nibabel writes mtime 0), so the same array, affine and
    header always give the same file.
    """
    img = nib.Nifti1Image(np.asarray(data), np.asarray(affine, dtype=np.float64), header=header)
    img.header.set_data_dtype(np.asarray(data).dtype)
    img.set_qform(img.affine, code=1)
    img.set_sform(img.affine, code=1)
    img.header["xyzt_units"] = 2 + 8  # mm, s
    with atomic_path(path) as tmp:
        nib.save(img, tmp)
    return Path(path)


def load_nifti(path: str | os.PathLike[str], *, what: str = "image") -> nib.Nifti1Image:
    """Load a 3D NIfTI file, raising a clear error that names the file on any problem.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What the file is, for error messages (e.g. ``"label map of sub-01, method original"``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it cannot be read as NIfTI, its data cannot be decoded, or it is not 3D.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what}: file not found: {p}")
    try:
        loaded = nib.load(p)
        if not isinstance(loaded, nib.Nifti1Image):
            raise ValueError(f"not a NIfTI-1/2 image ({type(loaded).__name__})")
        # Decode now, once: a truncated or corrupt gzip stream fails here, not later, and the
        # returned image holds its data in memory so callers do not decompress it again.
        data = np.asanyarray(loaded.dataobj)
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise ValueError(f"{what}: cannot read NIfTI file {p}: {exc}") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    elif data.ndim != 3:
        raise ValueError(f"{what}: expected a 3D volume, {p} has shape {tuple(data.shape)}")
    header = loaded.header.copy()
    header.set_data_shape(data.shape)
    img = nib.Nifti1Image(data, loaded.affine, header=header)
    return img
