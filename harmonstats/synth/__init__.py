"""Synthetic neonatal brain MRI studies with known truth: two acquisition domains, demographics.

A study has a dHCP-like *source* cohort and an ePrime-like *target* cohort (paper Table 1), each
subject with a T2w image, true tissue labels, true cortical regions, and the "original" labels of
the cohort's own pipeline, which over-estimate cortical GM at the CSF boundary in the target
cohort (thickness about 0.2 mm too high), as the paper found. True regional cortical thickness
follows a known model of PMA, GA, their interaction and sex (:mod:`harmonstats.synth.model`);
a Bayley-like language outcome depends on GA and sex but not on thickness.

Geometry (:mod:`~harmonstats.synth.geometry`, :mod:`~harmonstats.synth.anatomy`): an ellipsoidal
cerebrum split by an interhemispheric fissure, folded by sulcal pits between a network of gyral
ridges, with ventricles, deep GM, cerebellum, brainstem and extra-cerebral CSF, built on a 2x finer
grid so that the ribbon thickness is realised to a fraction of a voxel. The brain is scaled to the
field of view (a 64^3 grid at 0.5 mm is a 32 mm field, about a third of a real term brain), while
the cortical ribbon, the sulcal and fissural CSF gaps and the extra-cerebral CSF keep their real
size in mm; so cortical GM outweighs WM (about 2.5:1 by volume, about 1:1 in a real term brain)
and CSF is about a third of the intracranial volume. Use ``shape * spacing >= 28`` mm.

Generation cost (``python benchmarks/synth.py``: one process, one thread, on a shared 2-core
machine), median seconds per subject, generating in memory + writing the four NIfTI files, 32 mm
field of view: 32^3 at 1 mm 0.12 + 0.01 s; 48^3 at 0.667 mm 0.39 + 0.01 s; 64^3 at 0.5 mm
0.96 + 0.01 s (0.97 s in all); 96^3 at 0.333 mm 3.50 + 0.04 s. Rounding the WM surface (five
signed-distance passes on the fine grid) takes about a third of it. The cost grows about as the
number of voxels (96^3 has 3.4 times the voxels of 64^3 and took 3.6 times as long); the
distance transforms and the field evaluations on the 2x finer grid dominate.

Examples
--------
>>> import harmonstats.synth as synth
>>> study = synth.synthesize_study("data/demo", n_source=20, n_target=20)  # doctest: +SKIP
>>> spec = synth.SubjectSpec("tgt001", "target", ga_birth=29.0, pma_scan=41.0, sex="F")
>>> vol = synth.synthesize_subject(spec, shape=64, spacing=0.5, seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

from harmonstats.synth.acquisition import DOMAINS, Domain
from harmonstats.synth.demographics import draw_participants
from harmonstats.synth.folding import Folding
from harmonstats.synth.model import LanguageModel, ThicknessModel
from harmonstats.synth.study import TRUTH_COLUMNS, synthesize_study
from harmonstats.synth.subject import SubjectSpec, SubjectVolumes, synthesize_subject

__all__ = [
    "DOMAINS",
    "TRUTH_COLUMNS",
    "Domain",
    "Folding",
    "LanguageModel",
    "SubjectSpec",
    "SubjectVolumes",
    "ThicknessModel",
    "draw_participants",
    "synthesize_study",
    "synthesize_subject",
]
