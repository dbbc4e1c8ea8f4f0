"""Segmentation quality control per subject and method, without ground truth.

Four kinds of check, each a value per subject x method (x tissue), compared with what a trusted
reference shows (robust z-score: distance from the reference's median, or its PMA curve, in
units of the reference's scaled median absolute deviation):

``components``
    Connected components of each tissue (26-connectivity). A network that scatters a tissue
    into many pieces has gone wrong.
``islands``
    Fraction of each tissue's volume in components smaller than a tenth of its largest one:
    fragments away from where the tissue belongs.
``volume``
    Each tissue's volume (from the measures table) against a PMA-adjusted reference curve, a
    line fitted to the reference segmentations of the reference cohort; a map whose volume lies
    far off the curve, either way, is suspect.
``entropy``
    The network's mean voxel entropy over the brain (normalised to [0, 1] by the log of the
    number of classes), recorded by the segment stage in each map's JSON sidecar
    (:func:`read_entropy`); an uncertain network is more often wrong. Compared with the same
    method's maps of the map's own cohort: a network is less certain on every image of a cohort
    acquired worse (a domain gap, which the cohort comparison itself measures), so a map is
    suspect when it is less certain than its peers, not than another scanner's. NaN for maps
    without it (e.g. ``original``).

The reference of the first three is the ``original`` labels of the reference cohort when the
study has them (the labels its pipeline trusts), else each method's own maps of that cohort. A
check is flagged when its z-score passes ``z_threshold`` (above it for components, islands and
entropy; beyond it either way for volume). Where ground truth exists,
:func:`qc_dice_correlation` says how well each check tracks the true Dice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage, stats

from harmonstats.io import load_nifti
from harmonstats.labels import TISSUES
from harmonstats.layout.derivatives import sidecar_path
from harmonstats.layout.names import scans_of

__all__ = [
    "ENTROPY_KEY",
    "QC_COLUMNS",
    "QC_DICE_COLUMNS",
    "QC_SUMMARY_COLUMNS",
    "QC_TABLE_COLUMNS",
    "component_checks",
    "qc_dice_correlation",
    "qc_summary",
    "qc_tables",
    "read_entropy",
    "segmentation_qc",
]

#: Key of the mean normalised voxel entropy in a label map's JSON sidecar.
ENTROPY_KEY = "MeanNormalisedEntropy"

#: Columns of the table :func:`segmentation_qc` returns (BIDS-sidecar style).
QC_COLUMNS: dict[str, Any] = {
    "participant_id": {"Description": "participant ID, sub-<label>"},
    "session_id": {"Description": "session ID, ses-<label> (n/a without sessions)"},
    "cohort": {"Description": "cohort of the participant"},
    "method": {"Description": "source of the segmentation checked"},
    "check": {"Description": "kind of check", "Levels": {
        "components": "connected components of the tissue (26-connectivity)",
        "islands": "fraction of the tissue's volume in components < 1/10 of its largest",
        "volume": "tissue volume (mm3) against the PMA-adjusted reference curve",
        "entropy": "mean normalised voxel entropy of the network over the brain"}},
    "tissue": {"Description": "tissue checked ('brain' for entropy)"},
    "value": {"Description": "the subject's value", "Units": "see column unit"},
    "unit": {"Description": "unit of value and expected", "Levels": {
        "count": "number of components", "1": "fraction", "mm3": "cubic millimetres",
        "nats/ln(7)": "entropy in nats divided by its maximum, ln(number of classes)"}},
    "expected": {"Description": "the reference's median (volume: its PMA curve at the "
                                "subject's PMA)", "Units": "see column unit"},
    "scale": {"Description": "robust SD of the reference (1.4826 x median absolute deviation, "
                             "floored)", "Units": "see column unit"},
    "z": {"Description": "(value - expected) / scale", "Units": "1"},
    "flag": {"Description": "1 if z is beyond the threshold (volume: either way; others: "
                            "above), else 0; n/a if the value is missing"},
}

#: Columns of the table :func:`qc_dice_correlation` returns.
QC_DICE_COLUMNS: dict[str, Any] = {
    "method": {"Description": "method, or 'all' for every method's maps pooled"},
    "qc": {"Description": "QC value: '<check>_<tissue>' (its z-score; |z| for volume) or "
                          "'n_flags' (flags of the subject's map)"},
    "n": {"Description": "scan x method maps with both values"},
    "spearman_rho": {"Description": "Spearman rank correlation of the QC value with the map's "
                                    "mean Dice over tissues (negative: the check rises as "
                                    "quality falls)", "Units": "1"},
    "p": {"Description": "two-sided p-value of rho (t approximation)", "Units": "1"},
}

_CHECKS = ("components", "islands", "volume", "entropy")

#: Columns of the table :func:`qc_summary` returns.
QC_SUMMARY_COLUMNS: dict[str, Any] = {
    "method": {"Description": "source of the segmentation checked"},
    "cohort": {"Description": "cohort"},
    "maps": {"Description": "subjects' maps checked"},
    "flagged_maps": {"Description": "maps with at least one flag"},
    **{f"flags_{c}": {"Description": f"flags raised by the {c} check (all tissues)"}
       for c in _CHECKS},
    "mean_dice": {"Description": "mean Dice over tissues against the ground truth, all maps "
                                 "(n/a without ground truth)", "Units": "1"},
    "mean_dice_flagged": {"Description": "the same, flagged maps only", "Units": "1"},
}

#: Table name -> columns of the tables :func:`qc_tables` returns (for the report's sidecars).
QC_TABLE_COLUMNS: dict[str, dict[str, Any]] = {
    "qc": QC_COLUMNS, "qc_summary": QC_SUMMARY_COLUMNS, "qc_dice": QC_DICE_COLUMNS}

_TISSUE_NAMES = {v: n for v, n in TISSUES.items() if v}
# Smallest robust SD a reference may have, per unit, so that a reference with no spread (e.g.
# every map one component) does not flag the first deviation as infinitely far.
_SCALE_FLOOR = {"count": 0.5, "1": 0.002, "mm3": 1.0, "nats/ln(7)": 0.002}


def read_entropy(label_map: str | os.PathLike[str]) -> float:
    """The mean normalised entropy the segment stage recorded for a map, or NaN if none."""
    side = sidecar_path(label_map)
    if not side.is_file():
        return float("nan")
    try:
        value = json.loads(side.read_text()).get(ENTROPY_KEY)
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(f"{side}: not a JSON object ({exc})") from None
    return float(value) if value is not None else float("nan")


def component_checks(labels: np.ndarray, *, island_ratio: float = 0.1) -> dict[str, tuple[int,
                                                                                          float]]:
    """Connected components and island fraction of every tissue of a 7-tissue map.

    Parameters
    ----------
    labels : numpy.ndarray of int
        Tissue map (:data:`harmonstats.labels.TISSUES`).
    island_ratio : float
        A component smaller than this fraction of the tissue's largest is an island.

    Returns
    -------
    dict
        Tissue name -> ``(components, island fraction)``; ``(0, nan)`` for an absent tissue.
    """
    structure = np.ones((3, 3, 3), dtype=bool)
    out = {}
    for value, name in _TISSUE_NAMES.items():
        comp, n = ndimage.label(labels == value, structure=structure)
        if n == 0:
            out[name] = (0, float("nan"))
            continue
        sizes = np.bincount(comp.ravel())[1:]
        islands = sizes[sizes < island_ratio * sizes.max()].sum()
        out[name] = (int(n), float(islands / sizes.sum()))
    return out


def _robust_scale(values: np.ndarray, unit: str) -> float:
    mad = float(np.median(np.abs(values - np.median(values)))) if values.size else np.nan
    return max(1.4826 * mad, _SCALE_FLOOR[unit]) if np.isfinite(mad) else np.nan


def _reference_rows(table: pd.DataFrame, method: str, reference_method: str | None,
                    reference_cohort: str) -> pd.DataFrame:
    ref = reference_method if reference_method in set(table["method"]) else method
    return table[(table["method"] == ref) & (table["cohort"] == reference_cohort)]


def _score(table: pd.DataFrame, reference_method: str | None, reference_cohort: str,
           pma: pd.Series | None) -> pd.DataFrame:
    """Expected value, scale and z of every row against its reference."""
    parts = []
    # Entropy is judged within each cohort (module notes); the other checks against one reference.
    by_cohort = np.where(table["check"] == "entropy", table["cohort"].astype(str), "")
    for (method, check, tissue, cohort), rows in table.groupby(
            ["method", "check", "tissue", by_cohort], sort=False):
        same = table[(table["check"] == check) & (table["tissue"] == tissue)]
        ref = (_reference_rows(same, str(method), None, str(cohort)) if check == "entropy"
               else _reference_rows(same, str(method), reference_method, reference_cohort))
        ref_values = ref["value"].to_numpy(dtype=float)
        ok = np.isfinite(ref_values)
        rows = rows.copy()
        unit = str(rows["unit"].iloc[0])
        if check == "volume" and pma is not None and ok.sum() >= 3:
            x = pma.reindex(ref["scan"]).to_numpy(dtype=float)
            fit = np.isfinite(x) & ok
            slope, intercept = np.polyfit(x[fit], ref_values[fit], 1)
            resid = ref_values[fit] - (intercept + slope * x[fit])
            rows["expected"] = intercept + slope * pma.reindex(rows["scan"]).to_numpy()
            rows["scale"] = _robust_scale(resid, unit)
        else:
            rows["expected"] = float(np.median(ref_values[ok])) if ok.any() else np.nan
            rows["scale"] = _robust_scale(ref_values[ok], unit)
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)
    out["z"] = (out["value"] - out["expected"]) / out["scale"]
    return out


def segmentation_qc(
    cohort: Any,
    measures: pd.DataFrame,
    *,
    methods: Sequence[str] | None = None,
    reference_method: str | None = "original",
    reference_cohort: str | None = None,
    z_threshold: float = 3.0,
    island_ratio: float = 0.1,
) -> pd.DataFrame:
    """Quality-control checks of every method's tissue map, per subject (long, tidy table).

    Parameters
    ----------
    cohort : Cohort
        The study (participants with ``cohort`` and ``pma_scan``, label maps per method).
    measures : pandas.DataFrame
        Its long measures table (:func:`harmonstats.measures.extract.measure_cohort`): the
        ``volume_<tissue>`` rows are checked.
    methods : sequence of str, optional
        Methods to check (default: every method of the cohort but ``truth``).
    reference_method : str or None
        Method whose maps of the reference cohort define what is expected for components,
        islands and volumes (default ``original``); a study without it, or None, compares each
        method with its own maps of the reference cohort.
    reference_cohort : str, optional
        Cohort whose maps are the reference of components, islands and volumes (default: the
        cohort of the first participant). Entropy is always judged within each map's own cohort.
    z_threshold : float
        Robust z-score beyond which a check is flagged.
    island_ratio : float
        See :func:`component_checks`.

    Returns
    -------
    pandas.DataFrame
        One row per subject x method x check x tissue; columns :data:`QC_COLUMNS`.

    Raises
    ------
    ValueError
        If a named method is not in the cohort, or the measures table has no volume rows.
    """
    if z_threshold <= 0:
        raise ValueError(f"z_threshold must be positive, got {z_threshold!r}")
    todo = list(methods) if methods is not None else [m for m in cohort.methods if m != "truth"]
    unknown = [m for m in todo if m not in cohort.methods]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; cohort has {cohort.methods}")
    info = cohort.participants
    scans = cohort.scans
    cohorts = dict(zip((s.key for s in scans), info["cohort"].astype(str), strict=True))
    ref_cohort = reference_cohort or str(info["cohort"].iloc[0])
    ref_method = reference_method if reference_method in cohort.methods else None
    checked = todo + ([ref_method] if ref_method and ref_method not in todo else [])
    rows: list[dict[str, Any]] = []
    for method in checked:
        for scan in scans:
            path = cohort.label_path(method, scan)
            labels = np.asarray(load_nifti(path).dataobj)
            base = {"scan": scan.key, "participant_id": scan.participant_id,
                    "session_id": scan.session_id, "cohort": cohorts[scan.key],
                    "method": method}
            for tissue, (n, islands) in component_checks(labels,
                                                         island_ratio=island_ratio).items():
                rows.append({**base, "check": "components", "tissue": tissue, "value": float(n),
                             "unit": "count"})
                rows.append({**base, "check": "islands", "tissue": tissue, "value": islands,
                             "unit": "1"})
            rows.append({**base, "check": "entropy", "tissue": "brain",
                         "value": read_entropy(path), "unit": "nats/ln(7)"})
    vol = measures[measures["measure"].str.startswith("volume_")
                   & measures["method"].isin(checked)]
    if vol.empty:
        raise ValueError("the measures table has no volume_<tissue> rows of the checked methods")
    for scan, r in zip(scans_of(vol), vol.itertuples(index=False), strict=True):
        rows.append({"scan": scan.key, "participant_id": scan.participant_id,
                     "session_id": scan.session_id, "cohort": str(r.cohort),
                     "method": str(r.method), "check": "volume",
                     "tissue": str(r.measure).removeprefix("volume_"),
                     "value": float(r.value), "unit": "mm3"})
    table = pd.DataFrame(rows)
    pma = (pd.Series(info["pma_scan"].to_numpy(dtype=float), index=[s.key for s in scans])
           if "pma_scan" in info else None)
    scored = _score(table, ref_method, ref_cohort, pma)
    scored = scored[scored["method"].isin(todo)]
    beyond = np.where(scored["check"] == "volume", scored["z"].abs(), scored["z"]) > z_threshold
    scored["flag"] = np.where(scored["z"].notna(), beyond.astype(float), np.nan)
    return scored[list(QC_COLUMNS)].reset_index(drop=True)


def qc_dice_correlation(qc: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """How each QC check tracks the true quality: Spearman's rho with the mean Dice.

    Parameters
    ----------
    qc : pandas.DataFrame
        From :func:`segmentation_qc`.
    measures : pandas.DataFrame
        Long measures table with ``dice_<tissue>`` rows (a study with ground truth).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QC_DICE_COLUMNS`; per method and pooled (``all``). Empty if the
        measures have no Dice rows.
    """
    mean_dice = _mean_dice(measures)
    if mean_dice.empty:
        return pd.DataFrame(columns=list(QC_DICE_COLUMNS))
    score = qc.assign(scan=_scan_keys(qc), qc=qc["check"] + "_" + qc["tissue"],
                      score=np.where(qc["check"] == "volume", qc["z"].abs(), qc["z"]))
    wide = score.pivot_table(index=["scan", "method"], columns="qc", values="score",
                             aggfunc="first")
    wide["n_flags"] = score.groupby(["scan", "method"])["flag"].sum(min_count=1)
    data = wide.join(mean_dice, how="inner")
    rows = []
    groups = [(str(m), g) for m, g in data.groupby(level="method")] + [("all", data)]
    for method, group in groups:
        for column in list(wide.columns):
            pair = group[[column, "dice"]].dropna()
            if len(pair) < 3 or pair[column].nunique() < 2 or pair["dice"].nunique() < 2:
                continue
            rho, p = stats.spearmanr(pair[column], pair["dice"])
            rows.append({"method": method, "qc": column, "n": len(pair),
                         "spearman_rho": float(rho), "p": float(p)})
    return pd.DataFrame(rows, columns=list(QC_DICE_COLUMNS))


def _scan_keys(table: pd.DataFrame) -> list[str]:
    """The scan key (``sub-X`` or ``sub-X_ses-Y``) of every row of a QC or measures table."""
    return [s.key for s in scans_of(table)]


def _mean_dice(measures: pd.DataFrame) -> pd.Series:
    dice = measures[measures["measure"].str.startswith("dice_")]
    dice = dice.assign(scan=_scan_keys(dice))
    return dice.groupby(["scan", "method"])["value"].mean().rename("dice")


def qc_summary(qc: pd.DataFrame, measures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per method and cohort: maps checked, maps flagged, flags per check, Dice of each.

    Parameters
    ----------
    qc : pandas.DataFrame
        From :func:`segmentation_qc`.
    measures : pandas.DataFrame, optional
        Long measures table; its ``dice_<tissue>`` rows give the Dice columns.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QC_SUMMARY_COLUMNS`.
    """
    per_map = qc.assign(scan=_scan_keys(qc)).groupby(["method", "cohort", "scan"],
                                                      sort=False)["flag"].sum()
    per_map = per_map.rename("n_flags").reset_index()
    if measures is not None:
        per_map = per_map.join(_mean_dice(measures), on=["scan", "method"])
    else:
        per_map["dice"] = np.nan
    by_check = qc.pivot_table(index=["method", "cohort"], columns="check", values="flag",
                              aggfunc="sum").reindex(columns=list(_CHECKS))
    rows = []
    for (method, cohort), g in per_map.groupby(["method", "cohort"], sort=False):
        flagged = g[g["n_flags"] > 0]
        checks = by_check.loc[(method, cohort)] if (method, cohort) in by_check.index else None
        rows.append({"method": method, "cohort": cohort, "maps": len(g),
                     "flagged_maps": len(flagged),
                     **{f"flags_{c}": int(np.nan_to_num(checks[c])) if checks is not None else 0
                        for c in _CHECKS},
                     "mean_dice": float(g["dice"].mean()),
                     "mean_dice_flagged": float(flagged["dice"].mean())})
    return pd.DataFrame(rows, columns=list(QC_SUMMARY_COLUMNS))


def qc_tables(cohort: Any, measures: pd.DataFrame, **kwargs: Any) -> dict[str, pd.DataFrame]:
    """The QC tables of a study: ``qc`` (every check), ``qc_summary``, ``qc_dice``.

    ``kwargs`` go to :func:`segmentation_qc`. Empty tables where the study has no volume rows.
    """
    if not measures["measure"].str.startswith("volume_").any():
        return {}
    qc = segmentation_qc(cohort, measures, **kwargs)
    return {"qc": qc, "qc_summary": qc_summary(qc, measures),
            "qc_dice": qc_dice_correlation(qc, measures)}
