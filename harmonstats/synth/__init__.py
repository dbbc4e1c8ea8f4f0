"""Synthetic neonatal brain MRI studies with known truth: two acquisition domains, demographics.

A study has a dHCP-like *source* cohort and an ePrime-like *target* cohort (paper Table 1), each
subject with a T2w image, true tissue labels, true cortical regions, and the "original" labels of
the cohort's own pipeline, which over-estimate cortical GM at the CSF boundary in the target
cohort (thickness about 0.2 mm too high), as the paper found. True regional cortical thickness
follows a known model of PMA, GA, their interaction and sex (:mod:`harmonstats.synth.model`);
a Bayley-like language outcome depends on GA and sex but not on thickness.

Geometry (:mod:`~harmonstats.synth.geometry`, :mod:`~harmonstats.synth.folding`,
:mod:`~harmonstats.synth.anatomy`): an ellipsoidal cerebrum split by an interhemispheric
fissure and folded by sulci cut in from its outer surface (long curved sheets in two families,
ending and deepening at random, the gyri between them WM cores capped by cortex). A sulcus's
mouth holds CSF; its deep part closes, so that its two banks touch with no CSF between them, as
in the deep, narrow sulci of neonatal brains (:class:`Folding`: the share of each sulcus's depth
that closes is a parameter; the default puts about 7-14% of the cortex on touching banks in a
32 mm field and about 23% at real size). The WM lies at the local thickness from the pial
surface, so each bank keeps its own thickness where banks touch; thickness varies within a
region (crowns thicker than fundi, and smoothly). With ventricles, deep GM, cerebellum, brainstem
and extra-cerebral CSF, built on a 2x finer grid so that the ribbon is realised to a fraction of
a voxel, and the true thickness of every cortical voxel known (``desc-thickness`` maps). The
brain is scaled to the field of view (``size="fov"``: a 64^3 grid at 0.5 mm is a 32 mm field,
0.229 times a real term brain), or drawn at real neonatal size (``size="real"``: about 90 x 110 x
75 mm at term, growing with PMA, e.g. in ``shape=(256, 256, 200)`` at 0.5 mm); the cortex, CSF
gaps and rounding of the gyri keep their real size in mm, so a scaled-down brain has few, wide
gyri and more cortex than WM. Use a field of view of at least 28 mm on its smallest side.

Generation cost: see ``python benchmarks/synth.py`` (time and peak memory per grid, one
thread) and the figures in the README.

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
