"""Names of the cortical thickness methods, importable without the methods themselves."""

from __future__ import annotations

__all__ = ["DEFAULT_THICKNESS", "THICKNESS_METHODS"]

#: Thickness methods by name: projection-based with buried sulci reconstructed
#: (:mod:`~harmonstats.measures.pbt`), Laplace/Eulerian (:mod:`~harmonstats.measures.laplace`),
#: ANTs DiReCT (:mod:`~harmonstats.measures.direct`).
THICKNESS_METHODS = ("pbt", "laplace", "direct")
#: The thickness method used unless one is named (chosen on ``benchmarks/thickness.py``).
DEFAULT_THICKNESS = "pbt"
