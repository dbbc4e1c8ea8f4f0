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
import yaml
from nibabel.imageglobals import LoggingOutputSuppressor

from harmonstats.errors import InputError

__all__ = [
    "atomic_path",
    "file_sha256",
    "load_nifti",
    "read_table",
    "read_yaml",
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


def read_table(path: str | os.PathLike[str], *, sep: str = "\t") -> pd.DataFrame:
    """Read a TSV written by :func:`write_table` (``n/a`` as missing, IDs as strings).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    InputError
        If it is not a table: not text, an empty file, or rows with more fields than the header.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"table not found: {path}")
    try:
        return pd.read_csv(
            path,
            sep=sep,
            na_values=["n/a"],
            keep_default_na=True,
            dtype={"participant_id": str, "session_id": str},
        )
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text table (not UTF-8)") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file (no header row)") from None
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        raise InputError(f"{path}: not a {'TSV' if sep == chr(9) else 'CSV'} table: "
                         f"{detail}") from None


def read_yaml(path: str | os.PathLike[str], *, what: str = "YAML file") -> Any:
    """Parse a YAML file safely (no Python objects), with one-line errors naming the file.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What it is, for messages (``study file``, ``training config``...).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    InputError
        If it is not UTF-8 text or not valid YAML (the line, column and problem).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {p}")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{p.name}: not a YAML text file (not UTF-8)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{p.name}: not valid YAML{where}: {problem}") from None


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
    InputError
        If it cannot be read as NIfTI, its data cannot be decoded, it is not 3D, or its affine
        or voxel size is degenerate (not finite, singular, zero).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what}: file not found: {p}")
    try:
        # nibabel logs the header fields it repairs; the checks below say what matters, once
        with LoggingOutputSuppressor():
            loaded = nib.load(p)
            if not isinstance(loaded, nib.Nifti1Image):
                raise ValueError(f"not a NIfTI-1/2 image ({type(loaded).__name__})")
            # Decode now, once: a truncated or corrupt gzip stream fails here, not later, and
            # the returned image holds its data in memory so callers do not decompress it again.
            data = np.asanyarray(loaded.dataobj)
            affine = np.asarray(loaded.affine, dtype=float)
    except Exception as exc:  # nibabel raises many types for corrupt files
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"{what}: cannot read NIfTI file {p}: {detail}") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    elif data.ndim != 3:
        raise InputError(f"{what}: expected a 3D volume, {p} has shape {tuple(data.shape)}")
    voxel = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    if not np.isfinite(affine).all() or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise InputError(f"{what}: {p} has no valid voxel-to-world affine (voxel size "
                         f"{tuple(round(float(v), 6) for v in voxel)} mm); fix its header")
    header = loaded.header.copy()
    header.set_data_shape(data.shape)
    img = nib.Nifti1Image(data, loaded.affine, header=header)
    return img
