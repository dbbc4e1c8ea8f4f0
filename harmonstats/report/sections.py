"""Turning the battery's result tables and figures into the report's sections and verdicts.

Each section lists the battery tables it shows. A table the battery skipped is named in its
section with the battery's reason, so that a section whose analysis did not run says so and why
instead of vanishing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from harmonstats.report.content import FigureItem, Section, TableItem, Verdict
from harmonstats.report.html import measure_order

__all__ = ["SECTIONS", "SectionSpec", "build_sections", "summary_lines", "verdicts"]


@dataclass(frozen=True)
class SectionSpec:
    """A report section: anchor, title, the battery tables it shows and an introduction."""

    key: str
    title: str
    tables: tuple[tuple[str, str], ...]
    intro: str
    measures: str | None = None


_EFFECT_TABLES = (
    ("equivalence", "Equivalence (TOST) of the covariate-adjusted cohort effect."),
    ("cohort_effect", "Cohort effect (comparison - reference) adjusted for the covariates, "
     "matched subsets."),
    ("ttest", "Unadjusted two-sample t-tests, matched subsets."),
    ("distribution_shift", "Shift of the whole distribution between cohorts."),
)

#: The report's analysis sections, in order.
SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("cohorts", "Cohorts and matching", (
        ("descriptives", "Demographics per cohort and split (Table 1)."),
        ("balance", "Balance of the matching variables before and after matching."),
        ("dropped", "Subjects left out of the matched subsets, and why."),
    ), "Who was analysed, and how comparable the matched subsets of the cohorts are."),
    SectionSpec("segmentation", "Segmentation quality", (
        ("segmentation", "Dice per tissue against the ground truth; paired tests against the "
         "comparator."),
        ("qc_summary", "Segmentation QC without ground truth: maps flagged per method and "
         "cohort (connected components, islands, volume off the PMA curve, network entropy "
         "against the same cohort's maps; "
         "every check in tables/qc.tsv)."),
        ("qc_dice", "How each QC check tracks the true quality: Spearman correlation with the "
         "map's mean Dice."),
    ), "Overlap of each method's tissue labels with the ground truth, and per-subject quality "
       "checks that need none."),
    SectionSpec("volumes", "Tissue volumes", _EFFECT_TABLES,
                "Differences in tissue volumes between cohorts, per method.", "volume"),
    SectionSpec("thickness", "Cortical thickness, global and regional", _EFFECT_TABLES,
                "Differences in mean and regional cortical thickness between cohorts, per method.",
                "thickness"),
    SectionSpec("preservation", "Preservation of biological effects", (
        ("preservation", "Effects of age and sex on each measure, per method and cohort."),
    ), "Harmonisation must remove the scanner effect without removing biology."),
    SectionSpec("site", "Site prediction", (
        ("site_prediction", "Cross-validated prediction of the cohort from the measures "
         "(chance = balanced accuracy 0.5), with a permutation p-value."),
    ), "If the cohort can still be predicted from a method's measures, a site effect remains."),
    SectionSpec("combat", "ComBat comparison", (
        ("combat_status", "Feature-level ComBat variants fitted as comparator methods."),
    ), "ComBat harmonises the measures themselves; its rows appear as methods in the tables "
       "above."),
    SectionSpec("preterm", "Term versus preterm", (
        ("preterm_models", "Thickness ~ PMA + GA + sex + birth weight + PMA:GA, within the PMA "
         "window."),
        ("preterm_crossing", "PMA at which term and preterm regression lines cross, bootstrap "
         "CI."),
        ("preterm_regional", "Regional prematurity effects."),
    ), "Whether the known effect of prematurity on cortical thickness is found, in the reference "
       "cohort and pooled before and after harmonisation."),
    SectionSpec("outcome", "Outcome", (
        ("outcome", "Outcome regressed on regional thickness and covariates, per cohort and "
         "pooled."),
    ), "Pooling un-harmonised cohorts can create spurious associations with outcome."),
)


def _measure_group(measure: str) -> str:
    return "thickness" if measure.startswith("thickness_") else (
        "volume" if measure.startswith("volume_") or measure == "icv" else "other")


def _status(results: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    table = results.get("status")
    if table is None or table.empty:
        return {}
    skipped = table[table["status"].astype(str) == "skipped"]
    return {str(r.analysis): str(r.reason) for r in skipped.itertuples()}


def build_sections(
    results: Mapping[str, pd.DataFrame],
    docs: Mapping[str, Mapping[str, object]],
    figures: Mapping[str, Sequence[FigureItem]],
    notes: Mapping[str, Sequence[str]],
    skipped: Mapping[str, str],
) -> list[Section]:
    """The report's analysis sections from the battery's tables.

    Parameters
    ----------
    results : mapping
        Battery table name -> DataFrame (:func:`harmonstats.analysis.battery.run_battery`).
    docs : mapping
        Table name -> column descriptions (BIDS sidecar style, with ``Units``).
    figures : mapping
        Section key -> figures.
    notes : mapping
        Section key -> extra paragraphs (e.g. a figure that could not be drawn, and why).
    skipped : mapping
        Section key -> why the whole section did not run, for reasons outside the battery (e.g.
        no segmentation models).

    Returns
    -------
    list of Section
    """
    battery_skips = _status(results)
    sections = []
    for spec in SECTIONS:
        section = Section(key=spec.key, title=spec.title, text=[spec.intro])
        section.figures = list(figures.get(spec.key, ()))
        not_run = []
        for name, caption in spec.tables:
            table = results.get(name)
            if name in battery_skips:
                not_run.append(f"{name}: {battery_skips[name]}")
                continue
            if table is None or table.empty:
                continue
            if spec.measures is not None:
                if "measure" not in table.columns:
                    continue
                table = table[[_measure_group(str(m)) == spec.measures for m in table["measure"]]]
                if table.empty:
                    continue
            stem = name if spec.measures is None else f"{name}_{spec.key}"
            section.tables.append(
                TableItem(name=stem, table=table.reset_index(drop=True), caption=caption,
                          columns=dict(docs.get(name, {})))
            )
        reasons = [skipped[spec.key]] if spec.key in skipped else []
        if not_run:
            reasons.append("Analyses not run: " + "; ".join(not_run) + ".")
        if section.tables or section.figures:
            section.text.extend(reasons)
        else:
            section.skipped = " ".join(reasons) or "The battery returned no results here."
        section.text.extend(notes.get(spec.key, ()))
        sections.append(section)
    return sections


def verdicts(results: Mapping[str, pd.DataFrame]) -> list[Verdict]:
    """One verdict per method, compared cohort and measure, from the equivalence table."""
    table = results.get("equivalence")
    if table is None or table.empty:
        return []
    return [
        Verdict(method=str(r.method), comparison=str(r.comparison), measure=str(r.measure),
                verdict=str(r.verdict), estimate=float(r.estimate), margin=float(r.margin_abs),
                n_needed=float(getattr(r, "n_per_cohort_needed", float("nan"))))
        for r in table.itertuples()
    ]


def _settles(needed: Sequence[float], power: float) -> str:
    """What study size would settle inconclusive rows (``n_per_cohort_needed``, sized for
    ``power``), as a clause."""
    if not needed:
        return ""
    low, high = f"{min(needed):.0f}", f"{max(needed):.0f}"
    size = low if low == high else f"{low} to {high}"
    return (f" (with identical cohorts, {size} subjects per cohort would give "
            f"{'this TOST' if len(needed) == 1 else 'each of these TOSTs'} {power:.0%} power "
            "after the adjustment)")


def _listing(names: Sequence[str], limit: int = 6) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def summary_lines(items: Sequence[Verdict], reference: str, power: float = 0.8) -> list[str]:
    """Plain-language summary: per method, which measures were harmonised and which were not
    (``power``: the one ``n_per_cohort_needed`` was sized for, the battery's ``tost.power``)."""
    if not items:
        return ["No harmonisation verdict could be reached: the cohort-effect and equivalence "
                "analyses did not run (see the sections below for why)."]
    groups: dict[tuple[str, str], list[Verdict]] = {}
    for v in sorted(items, key=lambda v: measure_order(v.measure)):
        groups.setdefault((v.method, v.comparison), []).append(v)
    lines = []
    fully = []
    for (method, comparison), rows in groups.items():
        ok = [v.measure for v in rows if v.verdict == "equivalent"]
        trivial = [v.measure for v in rows if v.verdict == "trivial difference"]
        bad = [v.measure for v in rows if v.verdict == "different"]
        unsure_rows = [v for v in rows if v.verdict == "inconclusive"]
        unsure = [v.measure for v in unsure_rows]
        head = f"{method} ({comparison} vs {reference}): "
        if len(ok) == len(rows):
            fully.append(method)
            lines.append(head + f"harmonised on all {len(rows)} measures.")
            continue
        parts = [f"harmonised on {len(ok)} of {len(rows)} measures"]
        if trivial:
            parts.append(f"different but by less than the margin on {len(trivial)} "
                         f"({_listing(trivial)})")
        if bad:
            parts.append(f"NOT harmonised, significantly different beyond the margin, on "
                         f"{len(bad)} ({_listing(bad)})")
        if unsure:
            needed = [v.n_needed for v in unsure_rows if math.isfinite(v.n_needed)]
            parts.append(f"inconclusive on {len(unsure)} ({_listing(unsure)}): the data can "
                         "show neither a difference nor equivalence" + _settles(needed, power))
        lines.append(head + "; ".join(parts) + ".")
    if fully:
        lines.insert(0, f"Harmonised on every measure: {', '.join(fully)}.")
    else:
        lines.insert(0, "No method was shown to be harmonised on every measure.")
    headline = [v for v in items if v.measure == "thickness_mean"]
    if headline:
        effects = "; ".join(
            f"{v.method} {v.estimate:+.3f} mm ({v.verdict}, margin ±{v.margin:.3f} mm)"
            for v in headline
        )
        lines.append(f"Mean cortical thickness, adjusted cohort effect (compared cohort - "
                     f"{reference}): {effects}.")
    return lines
