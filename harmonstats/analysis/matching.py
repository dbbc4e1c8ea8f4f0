"""Matching each cohort to the reference cohort on GA at birth and PMA at scan (paper 3.2).

The paper compares subsamples of 30 dHCP and 30 ePrime neonates "which showed comparable GA at
birth and PMA at time of scan" (its test splits). :func:`match_cohorts` builds such subsets from
any study, deterministically, and reports how good the match is (balance) and who was left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from harmonstats.analysis.effectsize import pooled_sd
from harmonstats.analysis.tables import numeric_column
from harmonstats.errors import InputError

__all__ = ["BALANCE_COLUMNS", "MATCHED_COLUMNS", "SMD_FLAG", "MatchResult", "match_cohorts",
           "split_subsets"]

MATCHED_COLUMNS = {
    "participant_id": "Subject kept in the matched subset.",
    "cohort": "Cohort of the subject.",
    "comparison": "The non-reference cohort of the pair this subset serves (reference vs it).",
    "set_id": "Matched set, named by its anchor subject (a comparison-cohort subject, or a "
              "reference subject when anchor='reference') that has k partners.",
    "distance": {"Description": "Standardised Euclidean distance to the set's anchor subject "
                 "(0 for the anchor).", "Units": "SD of both cohorts together"},
}
BALANCE_COLUMNS = {
    "comparison": "Non-reference cohort compared with the reference.",
    "variable": "Matching variable or model covariate.",
    "matched_on": "True for a matching (or exact-matching) variable, False for a covariate "
                  "only adjusted for in the models.",
    "stage": "before (all subjects) or after (matched subset).",
    "n_reference": "Reference subjects.",
    "n_other": "Subjects of the comparison cohort.",
    "mean_reference": "Mean in the reference cohort (weeks; sex as proportion M).",
    "mean_other": "Mean in the comparison cohort.",
    "smd": "Standardised mean difference (other - reference) / pooled SD (effectsize.pooled_sd, "
           "before matching; Austin 2009).",
    "variance_ratio": "var(other) / var(reference); near 1 is balanced.",
    "imbalanced": "True where |smd| > 0.1, the usual threshold of residual imbalance (Austin "
                  "2009): the models' adjustment has to carry that difference.",
}
#: |SMD| above which a variable is flagged as imbalanced (Austin 2009).
SMD_FLAG = 0.1


@dataclass(frozen=True)
class MatchResult:
    """Matched subsets and their diagnostics.

    Attributes
    ----------
    matched : pandas.DataFrame
        Columns of :data:`MATCHED_COLUMNS`.
    balance : pandas.DataFrame
        Columns of :data:`BALANCE_COLUMNS`.
    dropped : pandas.DataFrame
        participant_id, cohort, comparison, reason: subjects left out of each comparison (also
        those missing a matching variable).
    """

    matched: pd.DataFrame
    balance: pd.DataFrame
    dropped: pd.DataFrame

    def subsets(self) -> dict[str, set[str]]:
        """Comparison cohort -> participant IDs of its matched subset (both cohorts)."""
        return {c: set(g["participant_id"]) for c, g in self.matched.groupby("comparison")}


def match_cohorts(
    participants: pd.DataFrame,
    *,
    reference: str,
    on: Sequence[str] = ("ga_birth", "pma_scan"),
    exact: Sequence[str] = (),
    method: str = "nearest",
    ratio: int = 1,
    caliper: float | None = 0.5,
    anchor: str = "comparison",
    covariates: Sequence[str] = (),
) -> MatchResult:
    """Match each subject of one side to ``ratio`` subjects of the other, per comparison.

    Distances are Euclidean on the ``on`` variables, each divided by its SD over the two cohorts
    together. Reference subjects are used once per comparison (without replacement). With
    several sessions per subject (a ``session_id`` column), subjects are matched on the mean of
    their sessions' values and a matched subject brings all its sessions.

    Parameters
    ----------
    participants : pandas.DataFrame
        participant_id, cohort and the ``on`` / ``exact`` columns (GA and PMA in weeks).
    reference : str
        Reference cohort (e.g. ``source``, dHCP in the paper).
    on : sequence of str
        Continuous matching variables.
    exact : sequence of str
        Variables that must be equal within a set (e.g. ``("sex",)``).
    method : {"nearest", "optimal"}
        ``nearest``: greedy; comparison subjects taken in order of their closest distance (ties
        by participant ID), each picking its nearest free partners; deterministic.
        ``optimal``: minimum total distance (``scipy.optimize.linear_sum_assignment``).
    ratio : int
        Partners per anchor subject (1:k).
    caliper : float or None
        Largest allowed distance (in SDs of both cohorts together); ``None`` for none.
    anchor : {"comparison", "reference"}
        Whose subjects each get ``ratio`` partners: the comparison cohort's (default) or the
        reference cohort's. Anchor the scarcer side, e.g. the few preterm-born subjects of a
        mostly term-born reference cohort matched to a preterm cohort (the paper's design).
    covariates : sequence of str
        Model covariates not matched on, added to the balance table (flagged ``imbalanced``
        where ``|smd| > 0.1``).

    Returns
    -------
    MatchResult
        ``matched`` (participant_id, cohort, comparison, set_id, distance), ``balance``
        (comparison, variable, stage, n_reference, n_other, mean_reference, mean_other, smd,
        variance_ratio) and ``dropped`` (participant_id, cohort, comparison, reason).

    References
    ----------
    Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. Stat Med 28.
    """
    if method not in ("nearest", "optimal"):
        raise ValueError(f"matching method must be 'nearest' or 'optimal', got {method!r}")
    if anchor not in ("comparison", "reference"):
        raise ValueError(f"anchor must be 'comparison' or 'reference', got {anchor!r}")
    if ratio < 1:
        raise ValueError(f"matching ratio must be >= 1, got {ratio}")
    if caliper is not None and caliper <= 0:
        raise ValueError(f"caliper must be positive or None, got {caliper}")
    cohorts = sorted(participants["cohort"].astype(str).unique())
    if reference not in cohorts:
        raise InputError(f"reference cohort {reference!r} not in the participants ({cohorts})")
    parts = _per_subject(participants, [*on, *exact, *covariates])
    missing = parts[[*on, *exact]].isna().any(axis=1)
    lacking = parts[missing]
    parts = parts[~missing]
    matched, balance, dropped = [], [], []
    ref = parts[parts["cohort"] == reference]
    for other in [c for c in cohorts if c != reference]:
        oth = parts[parts["cohort"] == other]
        for row in lacking[lacking["cohort"].isin([reference, other])].itertuples():
            gone = [v for v in (*on, *exact) if pd.isna(getattr(row, v))]
            dropped.append((row.participant_id, row.cohort, other, f"missing {', '.join(gone)}"))
        both = pd.concat([ref, oth])
        sd = np.array([both[v].std(ddof=1) for v in on])
        sd[sd == 0] = 1.0
        xr = np.column_stack([ref[v].to_numpy(float) for v in on]) / sd
        xo = np.column_stack([oth[v].to_numpy(float) for v in on]) / sd
        dist = np.sqrt(((xo[:, None, :] - xr[None, :, :]) ** 2).sum(axis=2))
        for v in exact:
            dist[oth[v].to_numpy()[:, None] != ref[v].to_numpy()[None, :]] = np.inf
        if caliper is not None:
            dist[dist > caliper] = np.inf
        oid, rid = oth["participant_id"].to_numpy(), ref["participant_id"].to_numpy()
        if anchor == "reference":
            dist, (aid, a_cohort), (pid, p_cohort) = dist.T, (rid, reference), (oid, other)
        else:
            (aid, a_cohort), (pid, p_cohort) = (oid, other), (rid, reference)
        pairs = _optimal(dist, ratio) if method == "optimal" else _greedy(dist, ratio)
        kept = sorted({i for i, _ in pairs})
        rows = [(aid[i], a_cohort, other, aid[i], 0.0) for i in kept]
        rows += [(pid[j], p_cohort, other, aid[i], float(dist[i, j])) for i, j in pairs]
        matched.append(pd.DataFrame(rows, columns=list(MATCHED_COLUMNS)))
        used = {j for _, j in pairs}
        dropped += [(aid[i], a_cohort, other, "no partner within the caliper")
                    for i in range(len(aid)) if i not in set(kept)]
        dropped += [(pid[j], p_cohort, other, "not selected as a partner")
                    for j in range(len(pid)) if j not in used]
        keep = set(matched[-1]["participant_id"])
        balance += _balance(ref, oth, keep, [*on, *exact], other, covariates)
    return MatchResult(
        pd.concat(matched, ignore_index=True),
        pd.DataFrame(balance, columns=list(BALANCE_COLUMNS)),
        pd.DataFrame(dropped, columns=["participant_id", "cohort", "comparison", "reason"]),
    )


def _greedy(dist: np.ndarray, ratio: int) -> list[tuple[int, int]]:
    """Comparison subjects in order of their closest distance; each takes its nearest free ones."""
    order = np.lexsort((np.arange(dist.shape[0]), dist.min(axis=1, initial=np.inf)))
    free = np.ones(dist.shape[1], dtype=bool)
    pairs = []
    for i in order:
        row = np.where(free, dist[i], np.inf)
        for _ in range(ratio):
            j = int(np.argmin(row))
            if not np.isfinite(row[j]):
                break
            pairs.append((int(i), j))
            free[j] = False
            row[j] = np.inf
    return _complete_sets(pairs, ratio)


def _optimal(dist: np.ndarray, ratio: int) -> list[tuple[int, int]]:
    big = 1e6 * (np.nanmax(dist[np.isfinite(dist)]) + 1) if np.isfinite(dist).any() else 1.0
    cost = np.repeat(np.where(np.isfinite(dist), dist, big), ratio, axis=0)
    rows, cols = linear_sum_assignment(cost)
    pairs = [(int(r // ratio), int(c)) for r, c in zip(rows, cols, strict=True)
             if np.isfinite(dist[r // ratio, c])]
    return _complete_sets(pairs, ratio)


def _complete_sets(pairs: list[tuple[int, int]], ratio: int) -> list[tuple[int, int]]:
    """Keep only sets with all ``ratio`` partners, so every set has the same shape."""
    counts: dict[int, int] = {}
    for i, _ in pairs:
        counts[i] = counts.get(i, 0) + 1
    return sorted(p for p in pairs if counts[p[0]] == ratio)


def _per_subject(participants: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """One row per subject (mean of numeric columns over sessions), IDs and cohorts as text."""
    parts = participants.assign(participant_id=participants["participant_id"].astype(str),
                                cohort=participants["cohort"].astype(str))
    columns = [c for c in dict.fromkeys(columns) if c in parts.columns]
    if parts["participant_id"].duplicated().any():
        numeric = [c for c in columns if pd.api.types.is_numeric_dtype(parts[c])]
        first = parts.groupby("participant_id", sort=True)[
            ["cohort", *[c for c in columns if c not in numeric]]].first()
        parts = first.join(parts.groupby("participant_id")[numeric].mean()).reset_index()
    return parts.sort_values("participant_id", kind="mergesort")


def _balance(ref: pd.DataFrame, oth: pd.DataFrame, keep: set[str], variables: Sequence[str],
             other: str, covariates: Sequence[str] = ()) -> list[tuple]:
    rows = []
    extra = [c for c in covariates if c not in variables and c in ref.columns]
    for v in [*variables, *extra]:
        known_r, known_o = ref[v].notna().to_numpy(), oth[v].notna().to_numpy()
        xr_all, xo_all = numeric_column(ref[known_r], v), numeric_column(oth[known_o], v)
        pooled = pooled_sd(xr_all, xo_all)
        for stage, r_mask, o_mask in (
            ("before", np.ones(len(ref), bool), np.ones(len(oth), bool)),
            ("after", ref.loc[known_r, "participant_id"].isin(keep).to_numpy(),
             oth.loc[known_o, "participant_id"].isin(keep).to_numpy()),
        ):
            xr, xo = xr_all[r_mask], xo_all[o_mask]
            ok = len(xr) > 1 and len(xo) > 1
            smd = (xo.mean() - xr.mean()) / pooled if ok and pooled > 0 else np.nan
            vr = xo.var(ddof=1) / xr.var(ddof=1) if ok and xr.var(ddof=1) > 0 else np.nan
            rows.append((other, v, v in variables, stage, len(xr), len(xo),
                         xr.mean() if len(xr) else np.nan, xo.mean() if len(xo) else np.nan,
                         smd, vr, bool(abs(smd) > SMD_FLAG) if np.isfinite(smd) else False))
    return rows


def split_subsets(participants: pd.DataFrame, *, reference: str, split: str,
                  on: Sequence[str] = ("ga_birth", "pma_scan"),
                  covariates: Sequence[str] = ()) -> MatchResult:
    """Use the study's own matched subsets: every subject of split ``split`` (paper: the test
    splits, 30 dHCP and 30 ePrime with similar GA and PMA), with the same balance report.

    Returns
    -------
    MatchResult
        As :func:`match_cohorts`; ``set_id`` and ``distance`` are missing (no pairing).
    """
    if "split" not in participants.columns:
        raise InputError(f"matching 'split:{split}' needs a 'split' column in participants")
    parts = _per_subject(participants, ["split", *on, *covariates])
    if not (parts["split"] == split).any():
        raise InputError(f"no participant is in split {split!r}; splits are "
                         f"{sorted(parts['split'].dropna().astype(str).unique())}")
    ref = parts[parts["cohort"] == reference]
    matched, balance, dropped = [], [], []
    for other in sorted(c for c in parts["cohort"].unique() if c != reference):
        oth = parts[parts["cohort"] == other]
        both = pd.concat([ref, oth])
        keep = both["split"] == split
        matched.append(pd.DataFrame({"participant_id": both.loc[keep, "participant_id"],
                                     "cohort": both.loc[keep, "cohort"], "comparison": other,
                                     "set_id": None, "distance": np.nan}))
        dropped.append(pd.DataFrame({"participant_id": both.loc[~keep, "participant_id"],
                                     "cohort": both.loc[~keep, "cohort"], "comparison": other,
                                     "reason": f"not in split {split}"}))
        balance += _balance(ref, oth, set(both.loc[keep, "participant_id"]), on, other,
                            covariates)
    return MatchResult(pd.concat(matched, ignore_index=True),
                       pd.DataFrame(balance, columns=list(BALANCE_COLUMNS)),
                       pd.concat(dropped, ignore_index=True))
