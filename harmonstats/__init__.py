"""harmonstats: decide, with evidence, whether neonatal brain MRI cohorts can be analysed together.

The public API for notebooks is re-exported here::

    import harmonstats as hs
    cohort = hs.Cohort.from_bids("data/study")
"""

from __future__ import annotations

__version__ = "0.1.0"

from harmonstats.cohort import Cohort
from harmonstats.labels import REGIONS, TISSUES, LabelScheme, get_scheme

__all__ = [
    "REGIONS",
    "TISSUES",
    "Cohort",
    "LabelScheme",
    "__version__",
    "get_scheme",
]
