"""Label schemes: the paper's 7 tissue classes, its 11 cortical regions, and maps from Draw-EM.

A :class:`LabelScheme` names the labels a map holds and how they map onto the 7 tissue classes
(or the 11 cortical regions) that harmonstats measures. Schemes are selected by name
(:func:`get_scheme`) or built from a user's own mapping (:meth:`LabelScheme.from_mapping`).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, section 2.3 and Table 2.
Makropoulos et al. (2018), The developing Human Connectome Project: a minimal processing pipeline
for neonatal cortical surface reconstruction (Draw-EM label tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from harmonstats.errors import InputError

__all__ = [
    "DRAWEM_9_TO_TISSUES",
    "DRAWEM_87_TO_REGIONS",
    "REGIONS",
    "SCHEMES",
    "TISSUES",
    "LabelScheme",
    "get_scheme",
]

#: The paper's 7 tissue classes, label value -> name.
TISSUES: dict[int, str] = {
    0: "background",
    1: "csf",
    2: "cgm",
    3: "wm",
    4: "dgm",
    5: "cerebellum",
    6: "brainstem",
}

#: The paper's 11 cortical regions (0 is background), in the order of section 2.3.
REGIONS: dict[int, str] = {
    0: "background",
    1: "frontal_l",
    2: "frontal_r",
    3: "cingulate",
    4: "temporal_l",
    5: "temporal_r",
    6: "insula_l",
    7: "insula_r",
    8: "parietal_l",
    9: "parietal_r",
    10: "occipital_l",
    11: "occipital_r",
}

_T = {name: value for value, name in TISSUES.items()}
_R = {name: value for value, name in REGIONS.items()}

#: Draw-EM 9-tissue labels -> the paper's 7 classes (PAPER_NOTES.md).
DRAWEM_9_TO_TISSUES: dict[int, int] = {
    0: _T["background"],
    4: _T["background"],
    1: _T["csf"],
    5: _T["csf"],
    2: _T["cgm"],
    3: _T["wm"],
    7: _T["dgm"],
    9: _T["dgm"],
    6: _T["cerebellum"],
    8: _T["brainstem"],
}


def _drawem_87() -> dict[int, int]:
    groups = {
        "temporal_l": [5, 7, 9, 11, 13, 15, 25, 27, 29, 31],
        "temporal_r": [6, 8, 10, 12, 14, 16, 24, 26, 28, 30],
        # Draw-EM's own table: 20 = insula right, 21 = insula left.
        "insula_r": [20],
        "insula_l": [21],
        "occipital_r": [22],
        "occipital_l": [23],
        "cingulate": [32, 33, 34, 35],
        "frontal_r": [36],
        "frontal_l": [37],
        "parietal_r": [38],
        "parietal_l": [39],
    }
    mapping = {label: 0 for label in range(88)}
    for region, labels in groups.items():
        for label in labels:
            mapping[label] = _R[region]
    return mapping


#: Draw-EM 87-region labels -> the paper's 11 cortical regions (all other labels -> 0).
DRAWEM_87_TO_REGIONS: dict[int, int] = _drawem_87()


@dataclass(frozen=True)
class LabelScheme:
    """A set of label values and how they map onto harmonstats' target labels.

    Parameters
    ----------
    name : str
        Name of the scheme (e.g. ``"tissues7"``, ``"drawem9"``).
    mapping : Mapping[int, int]
        Every label value a map in this scheme may hold -> target label (a key of
        :data:`TISSUES` for tissue schemes, of :data:`REGIONS` for region schemes).
    kind : {"tissue", "region"}
        What the target labels are.
    """

    name: str
    mapping: Mapping[int, int]
    kind: str = "tissue"
    _lut: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("tissue", "region"):
            raise InputError(f"LabelScheme kind must be 'tissue' or 'region', got {self.kind!r}")
        targets = TISSUES if self.kind == "tissue" else REGIONS
        if not self.mapping:
            raise InputError(f"label scheme {self.name!r} has an empty mapping")
        for src, dst in self.mapping.items():
            if int(src) < 0:
                raise InputError(f"label scheme {self.name!r}: negative label value {src}")
            if int(dst) not in targets:
                raise InputError(
                    f"label scheme {self.name!r}: label {src} maps to {dst}, which is not a "
                    f"{self.kind} label (valid: {sorted(targets)})"
                )
        lut = np.full(max(int(k) for k in self.mapping) + 1, -1, dtype=np.int16)
        for src, dst in self.mapping.items():
            lut[int(src)] = int(dst)
        object.__setattr__(self, "_lut", lut)

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[int, int], *, name: str = "custom", kind: str = "tissue"
    ) -> LabelScheme:
        """Build a scheme from a user's ``{label value: target label}`` mapping."""
        return cls(name=name, mapping={int(k): int(v) for k, v in mapping.items()}, kind=kind)

    @property
    def valid_labels(self) -> frozenset[int]:
        """Label values a map in this scheme may hold."""
        return frozenset(int(k) for k in self.mapping)

    def invalid_labels(self, labels: np.ndarray) -> list[int]:
        """Return the sorted label values in ``labels`` that the scheme does not know."""
        present = np.unique(labels)
        return [int(v) for v in present if int(v) not in self.mapping]

    def to_target(self, labels: np.ndarray) -> np.ndarray:
        """Map a label array onto the target labels (uint8).

        Raises
        ------
        ValueError
            If ``labels`` holds a value outside the scheme; the message lists them.
        """
        arr = np.asarray(labels)
        if not np.issubdtype(arr.dtype, np.integer):
            rounded = np.rint(arr)
            if not np.allclose(arr, rounded):
                raise InputError(f"label scheme {self.name!r}: label map holds non-integer values")
            arr = rounded.astype(np.int64)
        bad = self.invalid_labels(arr)
        if bad:
            raise InputError(
                f"labels {bad[:10]} are not in label scheme {self.name!r} "
                f"(valid: {sorted(self.valid_labels)[:20]})"
            )
        return self._lut[arr].astype(np.uint8)


SCHEMES: dict[str, LabelScheme] = {
    "tissues7": LabelScheme("tissues7", {k: k for k in TISSUES}, "tissue"),
    "regions11": LabelScheme("regions11", {k: k for k in REGIONS}, "region"),
    "drawem9": LabelScheme("drawem9", DRAWEM_9_TO_TISSUES, "tissue"),
    "drawem87": LabelScheme("drawem87", DRAWEM_87_TO_REGIONS, "region"),
}


def get_scheme(
    scheme: str | LabelScheme | Mapping[int, int], *, kind: str = "tissue"
) -> LabelScheme:
    """Return a label scheme by name, pass a scheme through, or build one from a mapping.

    Parameters
    ----------
    scheme : str, LabelScheme or mapping
        ``"tissues7"``, ``"regions11"``, ``"drawem9"``, ``"drawem87"``, a scheme, or a
        ``{label: target}`` mapping.
    kind : {"tissue", "region"}
        Kind of a scheme built from a mapping.
    """
    if isinstance(scheme, LabelScheme):
        return scheme
    if isinstance(scheme, str):
        try:
            return SCHEMES[scheme]
        except KeyError:
            raise InputError(f"unknown label scheme {scheme!r}; known: {sorted(SCHEMES)}") from None
    if isinstance(scheme, Mapping):
        return LabelScheme.from_mapping(scheme, kind=kind)
    raise TypeError(f"label scheme must be a name, a LabelScheme or a mapping, got {type(scheme)}")
