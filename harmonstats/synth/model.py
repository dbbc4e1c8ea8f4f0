"""The generative models behind a synthetic study: cortical thickness and language outcome.

Cortical thickness (CT, mm) follows the dHCP-only regression of the paper (section 3.3)::

    CT = b0 + b_pma * PMA + b_ga * GA + b_pma_ga * PMA * GA + b_male * [sex == M] + e_subject

with ``b_pma = 0.19``, ``b_ga = 0.154``, ``b_pma_ga = -0.004`` (mm per week). The intercept
``b0 = -5.69`` puts a female born at 40 weeks GA and scanned at 41 weeks PMA at 1.70 mm. The
PMA slope is ``0.19 - 0.004 * GA`` (positive for every GA below 47.5 weeks) and the GA slope is
``0.154 - 0.004 * PMA``, zero at PMA 38.5 weeks: term and preterm regression lines cross there.
Over GA 23-42 and PMA 37-46 the mean lies in 1.48-2.36 mm. Each of the 11 cortical regions adds
a fixed offset (centred on the cortex-area-weighted mean) and its own subject-level noise.

The language composite (Bayley-like, age-normed, mean 100 in the population) depends on GA, sex
and cohort, never on cortical thickness, so any thickness effect an analysis finds is spurious::

    language = c0 + c_ga * (GA - 40) + c_female * [sex == F] + c_target * [target] + e,
    e ~ N(0, (s0 + s_preterm * max(0, 40 - GA))^2)

which gives about 96 (SD 15) in the mostly term-born source cohort and about 91 (SD 17) in the
preterm target cohort (paper section 3.4: 96.43 +- 14.89 and 91.25 +- 17.37).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, sections 3.3 and 3.4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harmonstats.labels import REGIONS

__all__ = [
    "REGION_NAMES",
    "LanguageModel",
    "ThicknessModel",
    "generative_coefficients",
]

#: The 11 cortical region names, in label order (1..11).
REGION_NAMES: tuple[str, ...] = tuple(name for value, name in sorted(REGIONS.items()) if value)

_DEFAULT_OFFSETS = {
    "frontal_l": 0.02, "frontal_r": 0.02, "cingulate": 0.12, "temporal_l": 0.06,
    "temporal_r": 0.06, "insula_l": 0.16, "insula_r": 0.16, "parietal_l": -0.06,
    "parietal_r": -0.06, "occipital_l": -0.14, "occipital_r": -0.14,
}


@dataclass(frozen=True)
class ThicknessModel:
    """Cortical thickness as a function of PMA, GA and sex (mm; ages in weeks).

    Parameters
    ----------
    intercept, b_pma, b_ga, b_pma_ga, b_male : float
        Coefficients of the model in the module docstring (mm, mm/week, mm/week^2, mm).
    sd_subject : float
        SD of the subject-level deviation of the mean thickness (mm).
    sd_region : float
        SD of each region's own subject-level deviation (mm).
    region_offsets : dict
        Region name -> offset from the subject mean (mm), before centring on the area weights.
    clip : tuple of float
        Regional thicknesses are clipped to this range (mm).
    """

    intercept: float = -5.69
    b_pma: float = 0.19
    b_ga: float = 0.154
    b_pma_ga: float = -0.004
    b_male: float = 0.02
    sd_subject: float = 0.06
    sd_region: float = 0.04
    region_offsets: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_OFFSETS))
    clip: tuple[float, float] = (1.0, 2.8)

    def mean(self, pma: float, ga: float, sex: str) -> float:
        """Expected mean cortical thickness (mm) at ``pma`` and ``ga`` (weeks) for ``sex``."""
        return float(
            self.intercept + self.b_pma * pma + self.b_ga * ga + self.b_pma_ga * pma * ga
            + self.b_male * (sex == "M")
        )

    def draw_regional(
        self, pma: float, ga: float, sex: str, weights: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Draw one subject's 11 regional thicknesses (mm, label order).

        ``weights`` are the regions' shares of the cortical surface; the offsets are centred on
        them so that the area-weighted mean of the regional thicknesses follows the model.
        """
        offsets = np.array([self.region_offsets[name] for name in REGION_NAMES])
        w = np.asarray(weights, dtype=float)
        offsets = offsets - float(np.sum(w * offsets) / np.sum(w))
        subject = self.mean(pma, ga, sex) + rng.normal(0.0, self.sd_subject)
        regional = subject + offsets + rng.normal(0.0, self.sd_region, size=len(REGION_NAMES))
        return np.clip(regional, *self.clip)

    def crossing_pma(self) -> float:
        """PMA (weeks) where the GA slope is zero: term and preterm lines cross there."""
        return -self.b_ga / self.b_pma_ga


@dataclass(frozen=True)
class LanguageModel:
    """Bayley-like language composite as a function of GA, sex and cohort (no thickness term).

    Parameters
    ----------
    intercept : float
        Expected score of a boy born at 40 weeks GA in the source cohort.
    b_ga : float
        Points per week of GA at birth.
    b_female : float
        Points added for girls.
    b_target : float
        Points added in the target cohort beyond what its GA explains (cohort differences in
        the population and in the assessment; the paper's ePrime toddlers scored lower).
    sd : float
        Residual SD for term-born infants (points).
    sd_preterm : float
        Extra residual SD per week of GA below 40 (points/week).
    fraction : float
        Share of subjects with an outcome score.
    limits : tuple of float
        Scores are rounded to whole points and clipped to this range.
    """

    intercept: float = 96.0
    b_ga: float = 0.1
    b_female: float = 2.0
    b_target: float = -5.0
    sd: float = 14.5
    sd_preterm: float = 0.25
    fraction: float = 0.6
    limits: tuple[float, float] = (45.0, 155.0)

    def draw(self, ga: np.ndarray, sex: np.ndarray, target: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
        """Draw scores (points) for subjects with GA ``ga``, ``sex`` and ``target`` membership."""
        ga = np.asarray(ga, dtype=float)
        female = np.asarray(sex) == "F"
        mean = (self.intercept + self.b_ga * (ga - 40.0) + self.b_female * female
                + self.b_target * np.asarray(target, dtype=bool))
        sd = self.sd + self.sd_preterm * np.maximum(0.0, 40.0 - ga)
        return np.clip(np.round(mean + rng.normal(0.0, 1.0, size=ga.shape) * sd), *self.limits)


def generative_coefficients(
    thickness: ThicknessModel, language: LanguageModel, extra: dict[str, Any]
) -> dict[str, Any]:
    """Collect the models' coefficients (and ``extra`` settings) for ``truth.json``."""
    t = asdict(thickness)
    t["formula"] = (
        "thickness_mean = intercept + b_pma*pma_scan + b_ga*ga_birth + b_pma_ga*pma_scan*ga_birth"
        " + b_male*[sex==M] + N(0, sd_subject^2); "
        "region = mean + centred offset + N(0, sd_region^2)"
    )
    t["crossing_pma"] = thickness.crossing_pma()
    t["units"] = "mm, weeks"
    lang = asdict(language)
    lang["formula"] = (
        "language_composite = intercept + b_ga*(ga_birth-40) + b_female*[sex==F] + "
        "b_target*[cohort==target] + N(0, (sd + sd_preterm*max(0, 40-ga_birth))^2); "
        "no cortical thickness term"
    )
    return {"thickness": t, "language_composite": lang, **extra}
