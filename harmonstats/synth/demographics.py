"""Demographics of a synthetic two-cohort study, modelled on the paper's Table 1 and Figure 1.

- Source (dHCP-like): mostly term-born (GA 37-42.3 weeks) with a share of preterm-born infants
  (GA 23-37), scanned at PMA 37-45 weeks.
- Target (ePrime-like): preterm-born only (GA 23-33), scanned at term-equivalent age (PMA 37-46).
- Splits: 10% test, 10% validation, 80% train per cohort. As in the paper, the *test* splits of
  the two cohorts are matched on age: both are drawn from the same preterm-born distribution
  (GA 30 +- 2.4, PMA 41.4 +- 1.7 weeks; paper Table 1, test dHCP and test ePrime), so the source
  test split is the source's preterm-born subjects. Validation and training subjects follow the
  cohort's own distribution; the validation split takes every 9th subject in PMA order so that it
  keeps the age distribution of the training split.
- Sex is balanced (half F, half M, shuffled); birth weight follows GA (a Fenton-like median curve,
  log-normal spread of 12%, boys 3% heavier); a Bayley-like language composite is drawn for a
  random ~60% of subjects from :class:`~harmonstats.synth.model.LanguageModel`.

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, section 2.1, Table 1.
Fenton & Kim (2013), A systematic review and meta-analysis to revise the Fenton growth chart for
preterm infants, BMC Pediatrics 13:59 (birth-weight medians by GA).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonstats.errors import InputError
from harmonstats.synth.model import LanguageModel

__all__ = [
    "PARTICIPANT_COLUMNS",
    "SOURCE_PRETERM_SHARE",
    "draw_participants",
    "median_birth_weight",
    "participant_ids",
    "split_sizes",
]

#: Column -> description/units of ``participants.tsv`` (BIDS sidecar entries).
PARTICIPANT_COLUMNS: dict[str, dict[str, object]] = {
    "participant_id": {"Description": "participant ID, sub-<label> (BIDS)"},
    "cohort": {"Description": "acquisition domain",
               "Levels": {"source": "dHCP-like reference cohort",
                          "target": "ePrime-like cohort"}},
    "ga_birth": {"Description": "gestational age at birth", "Units": "weeks"},
    "pma_scan": {"Description": "postmenstrual age at scan", "Units": "weeks"},
    "sex": {"Description": "sex", "Levels": {"F": "female", "M": "male"}},
    "birth_weight": {"Description": "birth weight", "Units": "g"},
    "split": {"Description": "model development split",
              "Levels": {"train": "training", "val": "validation",
                         "test": "test (age-matched between cohorts)"}},
    "language_composite": {"Description": "Bayley-like language composite score at 18-24 "
                                          "months (n/a where not assessed)",
                           "Units": "points"},
}

# Fenton-like median birth weight (g) by GA (weeks), sexes pooled.
_BW_GA = np.array([22.0, 24.0, 26.0, 28.0, 30.0, 32.0, 34.0, 36.0, 38.0, 40.0, 42.0, 43.0])
_BW_G = np.array([500.0, 650.0, 850.0, 1100.0, 1400.0, 1750.0, 2200.0, 2700.0, 3150.0, 3450.0,
                  3650.0, 3700.0])

# Age distributions (weeks): (mean, sd, low, high).
_MATCHED_GA = (30.0, 2.4, 23.5, 35.0)
_MATCHED_PMA = (41.4, 1.7, 37.0, 45.0)
_TERM_GA = (39.9, 1.2, 37.0, 42.3)
_PRETERM_GA = (32.0, 3.0, 23.0, 36.9)
_SOURCE_PMA = (40.7, 1.7, 37.0, 45.0)
_TARGET_GA = (29.6, 2.3, 23.0, 33.0)
_TARGET_PMA = (42.9, 2.6, 37.0, 46.0)
#: Default share of preterm-born subjects in the source cohort (outside its test split).
SOURCE_PRETERM_SHARE = 0.12


def median_birth_weight(ga: np.ndarray) -> np.ndarray:
    """Median birth weight (g) at gestational age ``ga`` (weeks), sexes pooled."""
    return np.interp(np.asarray(ga, dtype=float), _BW_GA, _BW_G)


def participant_ids(cohort: str, n: int) -> list[str]:
    """IDs ``src001``.. or ``tgt001``.. (letters and digits only)."""
    prefix = {"source": "src", "target": "tgt"}[cohort]
    width = max(3, len(str(n)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n)]


def split_sizes(n: int) -> tuple[int, int, int]:
    """Numbers of (train, val, test) subjects for a cohort of ``n`` (80/10/10)."""
    n_test = max(1, round(0.1 * n)) if n >= 2 else 0
    n_val = max(1, round(0.1 * n)) if n >= 3 else 0
    return n - n_val - n_test, n_val, n_test


def _truncnorm(rng: np.random.Generator, spec: tuple[float, float, float, float],
               size: int) -> np.ndarray:
    mean, sd, low, high = spec
    out = rng.normal(mean, sd, size=size)
    bad = (out < low) | (out > high)
    while bad.any():
        out[bad] = rng.normal(mean, sd, size=int(bad.sum()))
        bad = (out < low) | (out > high)
    return out


def _ages(cohort: str, n: int, rng: np.random.Generator,
          preterm_share: float) -> tuple[np.ndarray, np.ndarray]:
    """GA and PMA (weeks) of the non-test subjects of a cohort."""
    if cohort == "target":
        ga = _truncnorm(rng, _TARGET_GA, n)
        pma = _truncnorm(rng, _TARGET_PMA, n)
        return ga, np.maximum(pma, ga + 4.0)
    preterm = rng.random(n) < preterm_share
    ga = np.where(preterm, _truncnorm(rng, _PRETERM_GA, n), _truncnorm(rng, _TERM_GA, n))
    # Term-born babies are scanned days to weeks after birth; preterm ones at term-equivalent age.
    postnatal = np.abs(rng.normal(0.6, 0.9, size=n)) + 0.1
    pma = np.where(preterm, _truncnorm(rng, _SOURCE_PMA, n), np.minimum(ga + postnatal, 45.0))
    return ga, np.maximum(pma, 37.0)


def _cohort(cohort: str, n: int, rng: np.random.Generator,
            language: LanguageModel, preterm_share: float) -> pd.DataFrame:
    n_train, n_val, n_test = split_sizes(n)
    ga_rest, pma_rest = _ages(cohort, n_train + n_val, rng, preterm_share)
    ga_spec = _MATCHED_GA if cohort == "source" else (*_MATCHED_GA[:3], _TARGET_GA[3])
    ga_test = _truncnorm(rng, ga_spec, n_test)
    pma_test = _truncnorm(rng, _MATCHED_PMA, n_test)
    order = np.argsort(pma_rest, kind="stable")
    split_rest = np.array(["train"] * (n_train + n_val), dtype=object)
    val_idx = order[4::9][:n_val]
    if len(val_idx) < n_val:
        val_idx = np.concatenate([val_idx, np.setdiff1d(order, val_idx)[: n_val - len(val_idx)]])
    split_rest[val_idx] = "val"
    ga = np.concatenate([ga_rest, ga_test])
    pma = np.concatenate([pma_rest, pma_test])
    split = np.concatenate([split_rest, np.array(["test"] * n_test, dtype=object)])
    perm = rng.permutation(n)
    ga, pma, split = ga[perm], pma[perm], split[perm]
    sex = np.array(["F", "M"] * ((n + 1) // 2), dtype=object)[:n]
    sex = sex[rng.permutation(n)]
    bw = median_birth_weight(ga) * np.exp(rng.normal(0.0, 0.12, size=n))
    bw *= np.where(sex == "M", 1.03, 1.0)
    scores = language.draw(ga, sex, np.full(n, cohort == "target"), rng)
    has_score = np.zeros(n, dtype=bool)
    has_score[rng.permutation(n)[: round(language.fraction * n)]] = True
    return pd.DataFrame({
        "participant_id": participant_ids(cohort, n),
        "cohort": cohort,
        "ga_birth": np.round(ga, 2),
        "pma_scan": np.round(pma, 2),
        "sex": sex,
        "birth_weight": np.round(bw).astype(int),
        "split": split,
        "language_composite": np.where(has_score, scores, np.nan),
    })


def draw_participants(
    n_source: int,
    n_target: int,
    rng: np.random.Generator,
    *,
    language: LanguageModel | None = None,
    source_preterm_share: float = SOURCE_PRETERM_SHARE,
) -> pd.DataFrame:
    """Draw the participants table of a synthetic two-cohort study.

    Parameters
    ----------
    n_source, n_target : int
        Numbers of subjects in the source (dHCP-like) and target (ePrime-like) cohorts.
    rng : numpy.random.Generator
        Source of randomness.
    language : LanguageModel, optional
        Outcome model (default :class:`~harmonstats.synth.model.LanguageModel`).
    source_preterm_share : float
        Share of preterm-born subjects (GA < 37 weeks) among the source cohort's training and
        validation subjects (its test split is preterm-born, matched to the target's).

    Returns
    -------
    pandas.DataFrame
        One row per subject, source first: ``participant_id`` (str), ``cohort`` (source/target),
        ``ga_birth`` (weeks), ``pma_scan`` (weeks), ``sex`` (F/M), ``birth_weight`` (g),
        ``split`` (train/val/test), ``language_composite`` (points, NaN where not assessed).
    """
    if not 0.0 <= source_preterm_share <= 1.0:
        raise InputError(
            f"source_preterm_share must lie in [0, 1], got {source_preterm_share!r}")
    language = language or LanguageModel()
    frames = [_cohort(cohort, n, rng, language, source_preterm_share)
              for cohort, n in (("source", n_source), ("target", n_target)) if n > 0]
    return pd.concat(frames, ignore_index=True)
