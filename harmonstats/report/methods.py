"""Methods text of a report, generated from what actually ran (never a fixed boilerplate).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["REFERENCES", "methods_text"]

#: References cited by the methods text, by key.
REFERENCES: dict[str, str] = {
    "grigorescu": "Grigorescu I, Vanes L, Uus A, et al. (2021). Harmonised segmentation of "
    "neonatal brain MRI. Frontiers in Neuroscience 15:662005.",
    "das": "Das SR, Avants BB, Grossman M, Gee JC (2009). Registration based cortical thickness "
    "measurement. NeuroImage 45(3):867-879 (DiReCT).",
    "jones": "Jones SE, Buchbinder BR, Aharon I (2000). Three-dimensional mapping of cortical "
    "thickness using Laplace's equation. Human Brain Mapping 11(1):12-32.",
    "yezzi": "Yezzi AJ, Prince JL (2003). An Eulerian PDE approach for computing tissue "
    "thickness. IEEE Transactions on Medical Imaging 22(10):1332-1339.",
    "dice": "Dice LR (1945). Measures of the amount of ecologic association between species. "
    "Ecology 26(3):297-302.",
    "schuirmann": "Schuirmann DJ (1987). A comparison of the two one-sided tests procedure and "
    "the power approach for assessing the equivalence of average bioavailability. Journal of "
    "Pharmacokinetics and Biopharmaceutics 15(6):657-680.",
    "bh": "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate. Journal of the "
    "Royal Statistical Society B 57(1):289-300.",
    "austin": "Austin PC (2009). Balance diagnostics for comparing the distribution of baseline "
    "covariates between treatment groups in propensity-score matched samples. Statistics in "
    "Medicine 28(25):3083-3107.",
    "johnson": "Johnson WE, Li C, Rabinovic A (2007). Adjusting batch effects in microarray "
    "expression data using empirical Bayes methods. Biostatistics 8(1):118-127 (ComBat).",
    "fortin": "Fortin JP, Cullen N, Sheline YI, et al. (2018). Harmonization of cortical thickness "
    "measurements across scanners and sites. NeuroImage 167:104-120.",
    "makropoulos": "Makropoulos A, Robinson EC, Schuh A, et al. (2018). The developing Human "
    "Connectome Project: a minimal processing pipeline for neonatal cortical surface "
    "reconstruction. NeuroImage 173:88-112 (Draw-EM labels).",
}


def _join(items: Sequence[str]) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items())


def _statistics(b: Mapping[str, Any], ran: Sequence[str], cite: Any) -> list[str]:
    """Sentences for the analyses that ran, with the options they ran with."""
    out = []
    if "balance" in ran or "cohort_effect" in ran:
        caliper = b.get("caliper")
        how = ("the study's own matched subsets (" + str(b.get("matching"))[6:] + " split)"
               if str(b.get("matching")).startswith("split:")
               else f"{b.get('matching')} matching on {_join(list(b.get('match_on', [])))}"
               + (f" within a caliper of {caliper} pooled SD" if caliper else ""))
        out.append(
            f"Cohorts were compared in matched subsets ({how}; balance as standardised mean "
            f"differences {cite('austin')}). Each measure was regressed on cohort adjusting for "
            f"{_join(list(b.get('covariates', [])))}"
            + (" with HC3 standard errors" if b.get("robust") else "")
            + f"; p-values were corrected across measures by Benjamini-Hochberg {cite('bh')}."
        )
    if "equivalence" in ran:
        margin = b.get("margin")
        bound = (f"{float(margin or 0) * 100:g}% of the reference cohort's mean"
                 if b.get("margin_relative") else f"{margin} in the measure's unit")
        extra = b.get("margins") or {}
        adjust = (b.get("tost") or {}).get("adjust", "holm")
        out.append(
            f"Equivalence of the cohorts was tested by two one-sided tests (TOST) "
            f"{cite('schuirmann')} at alpha = {b.get('alpha')} with a margin of {bound}"
            + (f" (absolute margins: {_params(extra)})" if extra else "")
            + f", p-values adjusted across each method's measures ({adjust}); a method is "
            "called harmonised for a measure when the effect is "
            "shown to lie within the margin and does not differ significantly from 0 "
            "(equivalent); a significant difference inside the margin is reported as a trivial "
            "difference, not as harmonised. Each row gives the TOST's power for identical "
            "cohorts at alpha / m (m measures of the method; a lower bound on its power after "
            "the adjustment) and, when inconclusive, the subjects per cohort that would give it "
            f"{float((b.get('tost') or {}).get('power', 0.8)):.0%} power at that level."
        )
    if "site_prediction" in ran:
        out.append(f"Site prediction: the cohort was predicted from each method's measures with "
                   f"{b.get('n_splits')}-fold cross-validation (balanced accuracy), and tested "
                   f"against {b.get('n_permutations')} label permutations.")
    if "preterm_models" in ran:
        low, high = b.get("pma_range", (None, None))
        out.append(f"Term vs preterm: {b.get('preterm_measure')} ~ PMA + GA + sex + birth weight "
                   f"+ PMA:GA for {low} <= PMA <= {high} weeks; term means GA >= "
                   f"{b.get('term_ga')} weeks; PMA and GA were centred at "
                   f"{(b.get('preterm') or {}).get('centre_pma', 40)} and "
                   f"{(b.get('preterm') or {}).get('centre_ga', 40)} weeks; the crossing point "
                   f"of the term and preterm lines comes from one joint model with Fieller's "
                   f"confidence set.")
    if "outcome" in ran:
        out.append(f"Outcome: {b.get('outcome')} ~ one of "
                   f"{_join(list(b.get('outcome_predictors', [])))} + "
                   f"{' + '.join(b.get('outcome_covariates', []))}, per cohort and pooled.")
    if "combat_status" in ran:
        out.append(
            f"Feature-level ComBat {cite('johnson')}{cite('fortin')} "
            f"({_join(list(b.get('combat', [])))}) harmonised the {b.get('combat_method')} "
            f"measures as a comparator, each subject by a model not fitted on it "
            f"({(b.get('combat_fit') or {}).get('scheme', 'crossfit')})."
        )
    out.append(f"Seed of every random step: {b.get('seed')}.")
    return out


def methods_text(
    *,
    cohorts: Mapping[str, int],
    reference: str,
    methods: Sequence[str],
    schemes: Mapping[str, str],
    thickness: Mapping[str, Any],
    ground_truth: str | None,
    battery: Mapping[str, Any],
    ran: Sequence[str],
    software: Mapping[str, str],
    synthetic: Mapping[str, Any] | None = None,
    models: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Paragraphs describing the data, measures and statistics of one run, and its references.

    Parameters
    ----------
    cohorts : mapping
        Cohort -> number of participants analysed.
    reference : str
        Reference cohort.
    methods : sequence of str
        Segmentation methods measured.
    schemes : mapping
        ``tissue`` and ``region`` -> label scheme names.
    thickness : mapping
        ``method`` (``laplace`` or ``direct``) and its parameters (other keys), as recorded by
        :func:`harmonstats.measures.thickness.thickness_params`.
    ground_truth : str or None
        Method Dice was computed against.
    battery : mapping
        The battery's configuration as run (its fields and values).
    ran : sequence of str
        Names of the analyses that produced results.
    software : mapping
        Distribution -> version.
    synthetic : mapping, optional
        Parameters of the synthetic study, when the data were generated.
    models : mapping, optional
        Method -> one-line description of the trained model that produced its label maps
        (:func:`harmonstats.pipeline.segment.model_summaries`).

    Returns
    -------
    paragraphs : list of str
    references : list of str
        The references cited, in order of citation.
    """
    cited: list[str] = []

    def cite(key: str) -> str:
        if key not in cited:
            cited.append(key)
        return f"[{cited.index(key) + 1}]"

    parts = []
    sizes = _join([f"{name} (N = {n})" for name, n in cohorts.items()])
    data = (f"Harmonisation was validated following {cite('grigorescu')}. Cohorts: {sizes}; "
            f"{reference} is the reference cohort.")
    if synthetic:
        data += (" The data were a synthetic two-cohort neonatal study with known ground truth, "
                 f"generated by harmonstats ({_params(synthetic)}).")
    parts.append(data)
    scheme_text = f"tissue labels in scheme {schemes.get('tissue')}"
    if schemes.get("tissue", "").startswith("drawem") or schemes.get("region", "").startswith(
        "drawem"
    ):
        scheme_text += f" (Draw-EM {cite('makropoulos')})"
    thick_method = str(thickness.get("method", "laplace"))
    thick_ref = (
        f"ANTs DiReCT {cite('das')}"
        if thick_method == "direct"
        else f"a Laplace/Eulerian method {cite('jones')}{cite('yezzi')}"
    )
    thick_params = {k: v for k, v in thickness.items() if k != "method"}
    text = (
        f"Segmentation methods measured: {_join(methods)}, {scheme_text}, mapped onto the 7 tissue "
        f"classes and 11 cortical regions (region scheme {schemes.get('region')}). Tissue volumes "
        "(mm3) and intracranial volume were counted from voxels; cortical thickness (mm) was "
        f"measured with {thick_ref}"
        + (f" ({_params(thick_params)})" if thick_params else "")
        + ", averaged over cortical grey matter and within each region."
    )
    if ground_truth:
        text += f" Dice overlap {cite('dice')} was computed per tissue against {ground_truth}."
    parts.append(text)
    if models:
        described = "; ".join(f"{m}: {d}" for m, d in models.items())
        parts.append(f"Label maps of {_join(list(models))} were produced in this run by applying "
                     f"trained segmentation networks {cite('grigorescu')} to the T2w images "
                     f"({described}).")
    parts.extend(_statistics(battery, ran, cite))
    versions = ", ".join(f"{k} {v}" for k, v in software.items() if v != "not installed")
    parts.append(f"Software: {versions}.")
    return parts, [REFERENCES[k] for k in cited]
