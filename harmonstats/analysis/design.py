"""Design matrices of the battery's models: one covariate encoding, learnt once, reusable frozen.

Every model of the battery (cohort effect, shift, site prediction, ComBat, term vs preterm) turns
covariates into numbers the same way, here: numeric columns as they are, a two-level text column
(e.g. sex F/M) as 0/1 for the later level in sorted order, ``a:b`` as a product and ``ns(x)`` as a
natural cubic spline of ``x``. :meth:`Design.learn` fixes the encoding (text levels, spline knots)
on one set of rows; :meth:`Design.matrix` applies it, unchanged, to any rows: the training folds'
encoding is what the held-out fold and a new cohort are given.

Natural cubic splines are cubic between knots and linear beyond the boundary knots (Hastie,
Tibshirani & Friedman 2009, *The Elements of Statistical Learning*, eqs. 5.4-5.5); with ``k``
degrees of freedom the knots are the minimum, the maximum and ``k - 1`` evenly spaced quantiles of
the rows the design is learnt on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmonstats.analysis.tables import InsufficientDataError
from harmonstats.errors import InputError

__all__ = ["SMOOTH_DF", "Design", "natural_spline", "smooth_variable", "term_variables"]

#: Degrees of freedom of ``ns(x)`` (columns besides the intercept): linear plus two curvatures.
SMOOTH_DF = 3
_SMOOTH = re.compile(r"^ns\(\s*([^,()\s]+)\s*(?:,\s*(\d+)\s*)?\)$")


def smooth_variable(term: str) -> tuple[str, int] | None:
    """``ns(x)`` -> (``x``, 3), ``ns(x, 4)`` -> (``x``, 4); any other term -> None."""
    hit = _SMOOTH.match(term)
    if hit is None:
        return None
    return hit.group(1), int(hit.group(2) or SMOOTH_DF)


def term_variables(term: str) -> list[str]:
    """Columns a model term reads: ``a:b`` -> a, b; ``ns(x)`` -> x; ``x`` -> x."""
    smooth = smooth_variable(term)
    return [smooth[0]] if smooth else term.split(":")


def natural_spline(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Natural cubic spline basis without intercept, ``len(knots) - 1`` columns.

    The first column is ``x`` (rescaled to the knots' range); column ``j + 1`` is
    ``d_j(x) - d_{K-1}(x)`` with ``d_j(x) = ((x - k_j)_+^3 - (x - k_K)_+^3) / (k_K - k_j)``
    (ESL eq. 5.5), so the span is every cubic spline with these knots that is linear beyond
    the boundary knots.
    """
    lo, hi = float(knots[0]), float(knots[-1])
    scale = hi - lo
    u = (np.asarray(x, dtype=float) - lo) / scale
    k = (np.asarray(knots, dtype=float) - lo) / scale

    def d(j: int) -> np.ndarray:
        return (np.clip(u - k[j], 0, None) ** 3 - np.clip(u - k[-1], 0, None) ** 3) / (
            k[-1] - k[j])

    last = d(len(k) - 2)
    return np.column_stack([u, *[d(j) - last for j in range(len(k) - 2)]])


@dataclass(frozen=True)
class Design:
    """A learnt covariate encoding.

    Attributes
    ----------
    terms : tuple of str
        Model terms: column names, ``a:b`` products, ``ns(x)`` / ``ns(x, k)`` splines.
    levels : dict
        Text column -> its two levels in sorted order (the second is coded 1).
    knots : dict
        Spline variable -> knots (from the rows the design was learnt on).
    names : list of str
        Column names of :meth:`matrix`, ``intercept`` first.
    """

    terms: tuple[str, ...]
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    knots: dict[str, np.ndarray] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    @classmethod
    def learn(cls, df: pd.DataFrame, terms: Sequence[str], context: str) -> Design:
        """Fix text levels and spline knots on ``df``'s rows."""
        levels: dict[str, tuple[str, ...]] = {}
        knots: dict[str, np.ndarray] = {}
        names = ["intercept"]
        for term in terms:
            smooth = smooth_variable(term)
            if smooth is not None:
                var, k = smooth
                x = _numeric(df, var, context, levels)
                if len(np.unique(x)) <= k:
                    raise InsufficientDataError(
                        f"{context}: {var!r} has {len(np.unique(x))} distinct value(s), too "
                        f"few for a spline with {k} degrees of freedom")
                knots[var] = np.quantile(x, np.linspace(0, 1, k + 1))
                names += [f"{term}[{j}]" for j in range(k)]
                continue
            for part in term.split(":"):
                _numeric(df, part, context, levels)
            names.append(term)
        return cls(tuple(terms), levels, knots, names)

    def matrix(self, df: pd.DataFrame, context: str) -> np.ndarray:
        """The design of ``df``'s rows under this encoding (intercept first)."""
        cols = [np.ones(len(df))]
        for term in self.terms:
            smooth = smooth_variable(term)
            if smooth is not None:
                var = smooth[0]
                cols += list(natural_spline(_numeric(df, var, context, self.levels),
                                            self.knots[var]).T)
                continue
            value = np.ones(len(df))
            for part in term.split(":"):
                value = value * _numeric(df, part, context, self.levels)
            cols.append(value)
        return np.column_stack(cols)


def _numeric(df: pd.DataFrame, column: str, context: str,
             levels: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Column as floats; a text column is coded with the levels learnt (learnt here if new)."""
    if column not in df.columns:
        raise InputError(f"{context}: model term {column!r} is not a column of the table")
    col = df[column]
    if pd.api.types.is_numeric_dtype(col) and column not in levels:
        return col.to_numpy(dtype=float)
    text = col.astype(str).to_numpy()
    if column not in levels:
        levels[column] = tuple(sorted(set(text)))
    known = levels[column]
    unknown = sorted(set(text) - set(known))
    if unknown:
        raise InputError(f"{context}: column {column!r} has level(s) {unknown} not seen when "
                         f"the model was fitted ({list(known)})")
    return (text == known[-1]).astype(float)
