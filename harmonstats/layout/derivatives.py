"""BIDS-Derivatives metadata: ``dataset_description.json``, ``dseg.tsv`` look-up tables, sidecars.

Each dataset harmonstats writes (a model's outputs, a synthetic study's label maps) is a
BIDS-Derivatives dataset: its ``dataset_description.json`` has ``DatasetType: derivative`` and
a ``GeneratedBy`` entry naming harmonstats, its version and what made the files (for a model,
the SHA-256 of its checkpoint); its label maps share a ``dseg.tsv`` (tissues) and a
``desc-regions_dseg.tsv`` (cortical regions) at the dataset root, which apply to every map of the
dataset by the BIDS inheritance principle; each map has a JSON sidecar naming its sources.

References
----------
BIDS specification 1.9, "Derivatives": dataset_description.json, "Segmentations" (dseg).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from harmonstats import __version__
from harmonstats.io import atomic_path, write_json
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout.names import REGIONS_DESC

__all__ = ["BIDS_VERSION", "generated_by", "sidecar_path", "write_dataset_description",
           "write_dseg_tables", "write_sidecar"]

#: BIDS version the datasets written follow.
BIDS_VERSION = "1.9.0"


def generated_by(name: str = "harmonstats", *, description: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    """One ``GeneratedBy`` entry: ``Name``, ``Version`` (harmonstats'), ``Description``..."""
    entry: dict[str, Any] = {"Name": name, "Version": __version__}
    if description:
        entry["Description"] = description
    entry.update(extra)
    return entry


def write_dataset_description(
    folder: str | os.PathLike[str],
    *,
    name: str,
    generated: Sequence[Mapping[str, Any]],
    dataset_type: str = "derivative",
    links: Mapping[str, str] | None = None,
    **extra: Any,
) -> Path:
    """Write ``folder/dataset_description.json`` atomically.

    Parameters
    ----------
    folder : path-like
        Root of the dataset.
    name : str
        ``Name`` of the dataset.
    generated : sequence of mapping
        ``GeneratedBy`` entries (see :func:`generated_by`).
    dataset_type : {"derivative", "raw"}
        ``DatasetType``.
    links : mapping, optional
        ``DatasetLinks``: dataset name -> location, for the ``bids:<name>:`` URIs of sidecars.
    **extra
        Further keys (e.g. ``SourceDatasets``).
    """
    if dataset_type not in ("derivative", "raw"):
        raise ValueError(f"DatasetType must be 'derivative' or 'raw', got {dataset_type!r}")
    description: dict[str, Any] = {"Name": name, "BIDSVersion": BIDS_VERSION,
                                   "DatasetType": dataset_type,
                                   "GeneratedBy": [dict(g) for g in generated]}
    if links:
        description["DatasetLinks"] = dict(links)
    description.update(extra)
    return write_json(description, Path(folder) / "dataset_description.json")


def _lut(labels: Mapping[int, str]) -> pd.DataFrame:
    return pd.DataFrame({"index": [int(k) for k in sorted(labels)],
                         "name": [labels[k] for k in sorted(labels)]})


def write_dseg_tables(folder: str | os.PathLike[str], *, tissues: Mapping[int, str] = TISSUES,
                      regions: Mapping[int, str] | None = REGIONS) -> list[Path]:
    """Write the look-up tables of a dataset's label maps (``index``, ``name``).

    ``dseg.tsv`` describes the tissue maps, ``desc-regions_dseg.tsv`` the region maps (the more
    specific table wins for them under the inheritance principle).
    """
    out = []
    tables = [("dseg.tsv", tissues)]
    if regions is not None:
        tables.append((f"desc-{REGIONS_DESC}_dseg.tsv", regions))
    for filename, labels in tables:
        path = Path(folder) / filename
        with atomic_path(path) as tmp:
            _lut(labels).to_csv(tmp, sep="\t", index=False, lineterminator="\n")
        out.append(path)
    return out


def sidecar_path(image: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of a NIfTI file: ``x.nii.gz`` (or ``x.nii``) -> ``x.json``."""
    p = Path(image)
    stem = p.name.removesuffix(".gz").removesuffix(".nii")
    return p.with_name(stem + ".json")


def write_sidecar(image: str | os.PathLike[str], **fields: Any) -> Path:
    """Write the JSON sidecar of a NIfTI file (``x.nii.gz`` -> ``x.json``), atomically.

    Fields with value None are left out. Typical fields: ``Sources`` (BIDS URIs of the inputs),
    ``Description``, ``Manual``.
    """
    return write_json({k: v for k, v in fields.items() if v is not None}, sidecar_path(image))
