"""Usability statistics as plain functions, each following a published method.

Everything here is pure (no I/O, no pandas) and takes ordinary Python numbers (or numeric
NumPy arrays, checked in one vector operation, for large studies), so it can be called from a
notebook. The methods are those recommended by Sauro & Lewis, *Quantifying the
User Experience*, 2nd ed. (2016), with the original sources cited per function.

Conventions:

- Proportions are 0–1; SUS, UMUX-Lite and NPS are on their 0–100 (NPS −100…100) scales.
- Intervals are two-sided at ``confidence`` (default 0.95).
- With a single observation a t interval cannot be formed: the functions return the point
  estimate with ``nan`` bounds (never raise), so reports can show "n/a".
- Bad input (an answer outside its scale, a negative time, n = 0, successes > n, confidence
  outside (0, 1)) raises :class:`ValueError` with a message saying what was wrong.

Contents: ``sus_score`` (ten items, or nine with one declined), ``sus_scores`` (many at
once), ``sus_subscales``, ``SUS_NINE_ITEM_MULTIPLIER``, ``sus_grade``, ``sus_percentile``,
``sus_adjective``, ``BANGOR_ADJECTIVE_MEANS``, ``sus_acceptability``, ``completion_ci``,
``completion_estimate``, ``geometric_mean_ci``, ``median_ci``, ``mean_ci``, ``nps``,
``umux_lite``, ``umux_lite_sus``, ``seq_summary``, ``two_proportion_test``, ``log_time_test``,
``welch_t``; ``clipped``; targets: ``completion_target_test``, ``time_target_test``,
``mean_target_test``; ``csat_summary``, ``ces_summary``; planning:
``sample_size_margin_completion``, ``sample_size_margin_mean``,
``sample_size_compare_proportions``, ``sample_size_compare_means``, ``discovery_share``,
``discovery_n``, ``discovery_estimate``, ``discovery_p_adjusted``.
"""

from __future__ import annotations

import math
import operator
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np

NAN = float("nan")


class Interval(NamedTuple):
    estimate: float
    low: float
    high: float


class Comparison(NamedTuple):
    """A two-group comparison: the difference (group 1 − group 2) with its CI and p-value."""

    p_value: float
    difference: float
    low: float
    high: float
    statistic: float
    df: float


# ---------------------------------------------------------------------------------------------
# Input checks.


def _confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return confidence


def _z(confidence: float) -> float:
    return _norm_ppf(1 - (1 - _confidence(confidence)) / 2)


# ---------------------------------------------------------------------------------------------
# Distributions: scipy.special's functions, imported on first use.
#
# These are the functions scipy.stats' distributions call themselves (scipy 1.17:
# ``t._ppf`` is ``stdtrit``, ``t._sf`` is ``stdtr(df, -x)``, ``norm._ppf`` is ``ndtri``,
# ``norm._sf`` is ``ndtr(-x)``, ``beta._ppf`` is Boost's ``ibeta_inv`` as ``betaincinv``,
# ``binom._sf``/``_pmf`` Boost's binomial), so every result keeps its last digit
# (tests/test_stats_special.py compares them over a grid). ``import scipy.special`` takes
# about 0.1 s beside the 0.45 s of ``scipy.stats``, and only the functions that need a
# quantile pay it: a SUS score does not. ``+ 0.0`` repeats scipy.stats' ``x * scale + loc``,
# which turns a −0.0 into 0.0.


def _t_ppf(q: float, df: float) -> float:
    """Student's t quantile (scipy.stats.t.ppf)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, q)) + 0.0


def _t_sf(x: float, df: float) -> float:
    """Student's t upper tail P(T > x) (scipy.stats.t.sf)."""
    from scipy.special import stdtr

    return float(stdtr(df, -x))


def _norm_ppf(q: float) -> float:
    """Standard normal quantile (scipy.stats.norm.ppf)."""
    from scipy.special import ndtri

    return float(ndtri(q)) + 0.0


def _norm_sf(x: float) -> float:
    """Standard normal upper tail P(Z > x) (scipy.stats.norm.sf)."""
    from scipy.special import ndtr

    return float(ndtr(-x))


def _beta_ppf(q: float, a: float, b: float) -> float:
    """Beta(a, b) quantile (scipy.stats.beta.ppf): the inverse regularised incomplete beta."""
    from scipy.special import betaincinv

    return float(betaincinv(a, b, q)) + 0.0


def _binom_mid_p(x: int, n: int, p: float) -> float:
    """P(X > x) + ½·P(X = x) for X ~ Binomial(n, p), as scipy.stats.binom.sf + ½·pmf.

    scipy.stats.binom calls Boost's binomial through two ufuncs that scipy.special does not
    export by name (its public ``bdtrc`` is Cephes' and differs in the last digits); without
    them (another scipy), scipy.stats itself.
    """
    from scipy.special import _ufuncs

    sf_f = getattr(_ufuncs, "_binom_sf", None)
    pmf_f = getattr(_ufuncs, "_binom_pmf", None)
    if sf_f is None or pmf_f is None:  # pragma: no cover - scipy without them
        from scipy.stats import binom

        return float(binom.sf(x, n, p) + 0.5 * binom.pmf(x, n, p))
    # scipy.stats: sf is 0 at the top of the support (x = n), both clipped to [0, 1]
    sf = 0.0 if x >= n else min(1.0, max(0.0, float(sf_f(x, n, p))))
    pmf = min(1.0, max(0.0, float(pmf_f(x, n, p))))
    return sf + 0.5 * pmf


# ---------------------------------------------------------------------------------------------
# Sums as the published numbers were computed.


def _mean(xs: list[float] | np.ndarray) -> float:
    return _sum(xs) / len(xs)


_SEQUENTIAL_SUM = sys.version_info < (3, 12)
"""Python's ``sum`` of floats adds them left to right in doubles up to 3.11 (3.12 compensates
the rounding): the running sum of ``np.cumsum``, which adds in the same order."""


def _sum(xs: list[float] | np.ndarray) -> float:
    """``sum(xs)`` as Python adds floats, on a list or (in one C loop) a float array."""
    if isinstance(xs, np.ndarray) and _SEQUENTIAL_SUM and xs.size > 64:
        # the start, int 0, turns a first −0.0 into 0.0; + 0.0 does the same at the end
        return float(np.cumsum(xs)[-1]) + 0.0
    return sum(xs.tolist() if isinstance(xs, np.ndarray) else xs)


def _sum_squares(xs: list[float] | np.ndarray, centre: float) -> float:
    """Σ (v − centre)², added left to right with Python's sum, each square by ``pow`` (C
    loops: no Python bytecode per value). ``pow(d, 2)`` is libm's and differs from the product
    d·d (NumPy's square) in the last bit of about one value in a thousand: this keeps every
    interval to its last digit. On a large array (ratings, scores: few distinct values) each
    distinct value's square is computed so once, and the squares are added in order by
    :func:`_sum`."""
    if isinstance(xs, np.ndarray) and _SEQUENTIAL_SUM and xs.size > 64:
        low, high = float(xs.min()), float(xs.max())
        if high - low < 4096 and (xs == np.floor(xs)).all():  # ratings: no sort needed
            squares = np.array(list(map(pow, map(operator.sub, (low + np.arange(
                int(high - low) + 1)).tolist(), repeat(centre)), repeat(2))), dtype=float)  # fmt: skip
            return _sum(squares[(xs - low).astype(np.int64)])
        distinct, where = np.unique(xs, return_inverse=True)
        if len(distinct) * 4 < xs.size:
            squares = np.array(list(map(pow, map(operator.sub, distinct.tolist(),
                                                 repeat(centre)), repeat(2))), dtype=float)  # fmt: skip
            return _sum(squares[where])
        xs = xs.tolist()
    elif isinstance(xs, np.ndarray):
        xs = xs.tolist()
    squares: Iterable[float] = map(pow, map(operator.sub, xs, repeat(centre)), repeat(2))
    return sum(squares)


def _numbers(values: Iterable[float], what: str) -> list[float] | np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        # A numeric array (from the analysis layer): checked in one vector operation, kept as
        # an array of floats (the sums above take it in C loops).
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise ValueError(f"{what} must be numbers, got nan")
        if not values.size:
            raise ValueError(f"no {what} given: need at least one")
        return values.astype(float)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise ValueError(f"{what} must be numbers, got {v!r}")
        out.append(float(v))
    if not out:
        raise ValueError(f"no {what} given: need at least one")
    return out


def _times_array(times: Iterable[float]) -> np.ndarray:
    """Times as a float array, checked: numbers, at least one, every one positive."""
    times = _array_like(times)
    if isinstance(times, np.ndarray) and times.dtype.kind in "iuf":
        if times.dtype.kind == "f" and np.isnan(times).any():
            raise ValueError("times must be numbers, got nan")
        arr = times.astype(float)
        if not arr.size:
            raise ValueError("no times given: need at least one")
    else:
        arr = np.array(_numbers(times, "times"), dtype=float)
    bad = arr <= 0
    if bad.any():
        raise ValueError(f"times must be positive (seconds), got {float(arr[bad.argmax()])}")
    return arr


def _times(times: Iterable[float]) -> list[float]:
    out: list[float] = _times_array(times).tolist()
    return out


def _log_times(times: Iterable[float]) -> list[float]:
    """ln t of each time, by libm's log (``math.log``; NumPy's own log differs in the last bit
    of some values)."""
    return list(map(math.log, _times(times)))


def _likert(responses: Iterable[int], n: int, low: int, high: int, what: str) -> list[int]:
    values = list(responses)
    if len(values) != n:
        raise ValueError(f"{what} needs {n} answers, got {len(values)}")
    for i, r in enumerate(values, start=1):
        if isinstance(r, bool) or not isinstance(r, (int, float)) or r != int(r):
            raise ValueError(f"{what} item {i}: answers are whole numbers {low}–{high}, got {r!r}")
        if not low <= r <= high:
            raise ValueError(f"{what} item {i}: answer {r} is outside {low}–{high}")
    return [int(r) for r in values]


def _counts(successes: int, n: int) -> None:
    if n <= 0:
        raise ValueError(f"n must be at least 1, got {n}")
    if successes < 0 or successes > n:
        raise ValueError(f"successes must be between 0 and n ({n}), got {successes}")


# ---------------------------------------------------------------------------------------------
# SUS.


SUS_NINE_ITEM_MULTIPLIER = 100 / 36
"""Lewis, J. R. & Sauro, J. (2017). Can I leave this one out? The effect of dropping an item
from the SUS. Journal of Usability Studies 13(1), 38–46: with one item left out, "multiply the
sum of the adjusted item scores by 100/36 instead of the standard 100/40, or 2.5". The means of
all ten nine-item variants were within one point of the standard SUS."""


def _sus_answers(responses: Sequence[int | None]) -> list[int | None]:
    """Ten SUS answers 1–5 in item order; ``None`` marks an item left out (declined)."""
    values = list(responses)
    if len(values) != 10:
        raise ValueError(f"SUS needs 10 answers, got {len(values)}")
    missing = [i for i, v in enumerate(values, start=1) if v is None]
    if len(missing) > 1:
        raise ValueError(
            f"SUS with {len(missing)} items left out (items {', '.join(map(str, missing))}) has "
            "no score: Lewis & Sauro (2017) validated leaving out one item, not more"
        )
    answered = _likert([1 if v is None else v for v in values], 10, 1, 5, "SUS")
    return [None if v is None else a for v, a in zip(values, answered, strict=True)]


def _sus_contributions(answers: list[int | None]) -> list[int | None]:
    # odd (positive) items: r − 1; even (negative) items: 5 − r; each 0–4
    return [None if v is None else (v - 1) if i % 2 == 0 else (5 - v)
            for i, v in enumerate(answers)]  # fmt: skip


def sus_score(responses: Sequence[int | None]) -> float:
    """System Usability Scale score, 0–100, from ten answers 1–5 in item order.

    Odd (positive) items contribute r − 1, even (negative) items 5 − r; the sum × 2.5.
    Source: Brooke, J. (1996). SUS: a "quick and dirty" usability scale.

    One answer may be ``None`` (the participant declined that item): the sum of the other
    nine contributions × 100/36 (:data:`SUS_NINE_ITEM_MULTIPLIER`, Lewis & Sauro 2017, JUS
    13(1), 38–46). Two or more ``None`` raise :class:`ValueError`: no published method scores
    fewer than nine items.
    """
    contrib = _sus_contributions(_sus_answers(responses))
    total = sum(c for c in contrib if c is not None)
    return total * (SUS_NINE_ITEM_MULTIPLIER if None in contrib else 2.5)


def sus_scores(responses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, learnability, usability) for many participants at once: one row of ten 1–5
    answers per participant, in item order.

    The same formulas as :func:`sus_score` (Brooke 1996: odd items r − 1, even items 5 − r,
    sum × 2.5) and :func:`sus_subscales` (Lewis & Sauro 2009: items 4 and 10 × 12.5, the other
    eight × 3.125), computed on arrays so that a study of 100,000 participants takes
    milliseconds. Rows with an answer outside 1–5 or not whole are refused.

    A row may leave out one item (``nan``, or ``None`` in an object array): its score is the
    other nine contributions × 100/36 (Lewis & Sauro 2017), and the sub-scale that lacks the
    item is ``nan`` (no published proration for the sub-scales). Rows with two or more items
    left out are refused: drop them first.
    """
    r = np.asarray(responses, dtype=float)
    if r.ndim != 2 or r.shape[1] != 10:
        raise ValueError(f"SUS needs rows of 10 answers, got an array of shape {r.shape}")
    missing = np.isnan(r)
    if r.size and not np.isin(r[~missing], [1, 2, 3, 4, 5]).all():
        raise ValueError("SUS answers are whole numbers 1–5")
    left_out = missing.sum(axis=1)
    if (left_out > 1).any():
        row = int(np.argmax(left_out > 1))
        raise ValueError(f"SUS row {row + 1} leaves out {int(left_out[row])} items: no score "
                         "(Lewis & Sauro 2017 validated leaving out one item, not more)")  # fmt: skip
    contrib = np.where(np.arange(10) % 2 == 0, r - 1, 5 - r)  # nan stays nan
    learn = contrib[:, 3] + contrib[:, 9]
    usab = contrib[:, [0, 1, 2, 4, 5, 6, 7, 8]].sum(axis=1)
    total = np.nansum(contrib, axis=1)
    scores = np.where(left_out == 0, total * 2.5, total * SUS_NINE_ITEM_MULTIPLIER)
    return scores, learn * 12.5, usab * 3.125


def sus_subscales(responses: Sequence[int | None]) -> tuple[float, float]:
    """(learnability, usability), each 0–100: items 4 and 10 vs the other eight.

    Learnability: the contributions of items 4 and 10 (max 8) × 12.5; usability: the other
    eight (max 32) × 3.125. Source: Lewis, J. R. & Sauro, J. (2009). The factor structure of
    the System Usability Scale. HCII 2009, LNCS 5619, 94–103.

    With one item left out (``None``), the sub-scale that lacks it is ``nan``: Lewis & Sauro
    (2017) prorated the overall score only.
    """
    contrib = _sus_contributions(_sus_answers(responses))

    def part(items: list[int | None], weight: float) -> float:
        known = [c for c in items if c is not None]
        return sum(known) * weight if len(known) == len(items) else NAN

    return (part([contrib[3], contrib[9]], 12.5),
            part([c for i, c in enumerate(contrib) if i not in (3, 9)], 3.125))  # fmt: skip


def _score(score: float) -> float:
    if isinstance(score, bool) or not isinstance(score, (int, float)) or math.isnan(score):
        raise ValueError(f"a SUS score must be a number, got {score!r}")
    if not 0 <= score <= 100:
        raise ValueError(f"a SUS score is 0–100, got {score}")
    return float(score)


# Lower bound of each band, highest first; a score belongs to the first band whose lower
# bound it reaches (so 84.05, between the published 84.0 and 84.1, is an A).
SUS_GRADES: tuple[tuple[float, str], ...] = (
    (84.1, "A+"), (80.8, "A"), (78.9, "A-"), (77.2, "B+"), (74.1, "B"), (72.6, "B-"),
    (71.1, "C+"), (65.0, "C"), (62.7, "C-"), (51.7, "D"), (0.0, "F"),
)  # fmt: skip
"""Sauro & Lewis (2016), Quantifying the User Experience 2nd ed., Table 8.5 (curved grading
scale based on 241 studies): A+ 84.1–100, A 80.8–84.0, A− 78.9–80.7, B+ 77.2–78.8,
B 74.1–77.1, B− 72.6–74.0, C+ 71.1–72.5, C 65.0–71.0, C− 62.7–64.9, D 51.7–62.6, F 0–51.6."""


def sus_grade(score: float) -> str:
    """Letter grade "A+" … "F" on the Sauro–Lewis curved grading scale (see SUS_GRADES)."""
    s = _score(score)
    return next(grade for bound, grade in SUS_GRADES if s >= bound)


SUS_PERCENTILE_TABLE: tuple[tuple[float, float], ...] = (
    (0, 0.0), (5, 0.3), (10, 0.4), (15, 0.7), (20, 1.0), (25, 1.5), (30, 2.0), (35, 4.0),
    (40, 6.0), (45, 8.0), (50, 13.0), (55, 19.0), (60, 29.0), (65, 41.0), (66, 44.0),
    (67, 47.0), (68, 50.0), (69, 53.0), (70, 56.0), (71, 60.0), (72, 63.0), (73, 67.0),
    (74, 70.0), (75, 73.0), (76, 77.0), (77, 80.0), (78, 83.0), (79, 86.0), (80, 88.0),
    (85, 97.0), (90, 99.8), (95, 99.999), (100, 100.0),
)  # fmt: skip
"""SUS score → percentile rank, Sauro (2011) A Practical Guide to the System Usability Scale
(MeasuringU), as transcribed in the R package jjw3952/mcotear (``sus_to_percentile``)."""


def sus_percentile(score: float) -> float:
    """Percentile rank 0–100 of a SUS score against Sauro's (2011) norms.

    Linear interpolation between the rows of :data:`SUS_PERCENTILE_TABLE` (not a normal
    curve: the published distribution is skewed, and a normal curve misplaces scores at the top).
    """
    s = _score(score)
    xs = [x for x, _ in SUS_PERCENTILE_TABLE]
    i = bisect_right(xs, s) - 1
    if i >= len(xs) - 1:
        return 100.0
    (x0, y0), (x1, y1) = SUS_PERCENTILE_TABLE[i], SUS_PERCENTILE_TABLE[i + 1]
    return y0 + (y1 - y0) * (s - x0) / (x1 - x0)


SUS_ADJECTIVES: tuple[tuple[float, str], ...] = (
    (84.1, "Best Imaginable"), (80.8, "Excellent"), (71.1, "Good"), (51.7, "OK"),
    (25.1, "Poor"), (0.0, "Worst Imaginable"),
)  # fmt: skip
"""MeasuringU's adjective ranges (Sauro 2018, "5 ways to interpret a SUS score"), derived
from Bangor, Kortum & Miller (2009) and aligned with the curved grades: Worst Imaginable
0–25, Poor 25.1–51.6, OK 51.7–71.0, Good 71.1–80.7, Excellent 80.8–84.0, Best Imaginable
84.1–100."""


def sus_adjective(score: float) -> str:
    """Adjective for a SUS score (see :data:`SUS_ADJECTIVES`)."""
    s = _score(score)
    return next(adj for bound, adj in SUS_ADJECTIVES if s >= bound)


BANGOR_ADJECTIVE_MEANS: dict[str, float] = {
    "Worst Imaginable": 12.5,
    "Awful": 20.3,
    "Poor": 35.7,
    "OK": 50.9,
    "Good": 71.4,
    "Excellent": 85.5,
    "Best Imaginable": 90.9,
}
"""Mean SUS score of the participants who chose each adjective: Bangor, Kortum & Miller
(2009). Determining what individual SUS scores mean. JUS 4(3), 114–123, Table 3."""


def sus_acceptability(score: float) -> str:
    """Acceptability range of Bangor, Kortum & Miller (2008, 2009).

    "Not Acceptable" below 50, "Marginal (low)" 50 to below 62.5, "Marginal (high)" 62.5 to
    below 70, "Acceptable" 70 and above.
    """
    s = _score(score)
    if s >= 70:
        return "Acceptable"
    if s >= 62.5:
        return "Marginal (high)"
    if s >= 50:
        return "Marginal (low)"
    return "Not Acceptable"


# ---------------------------------------------------------------------------------------------
# Completion rates.


def completion_ci(
    successes: int, n: int, confidence: float = 0.95, method: str = "adjusted-wald"
) -> tuple[float, float]:
    """Confidence interval for a completion rate, as proportions clipped to [0, 1].

    - ``"adjusted-wald"`` (default, recommended for usability samples): add z²/2 successes and
      z² trials, then the Wald interval: p̂ = (x + z²/2)/(n + z²), p̂ ± z·√(p̂(1−p̂)/(n + z²)).
      Agresti & Coull (1998); Sauro & Lewis (2005), HFES 49, 2100–2104.
    - ``"wilson"``: the score interval (Wilson 1927).
    - ``"exact"``: Clopper–Pearson (1934), from beta quantiles.
    """
    _counts(successes, n)
    alpha = 1 - _confidence(confidence)
    if method == "adjusted-wald":
        z = _z(confidence)
        n_adj = n + z * z
        p_adj = (successes + z * z / 2) / n_adj
        half = z * math.sqrt(p_adj * (1 - p_adj) / n_adj)
        return max(0.0, p_adj - half), min(1.0, p_adj + half)
    if method == "wilson":
        z = _z(confidence)
        p = successes / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return max(0.0, centre - half), min(1.0, centre + half)
    if method == "exact":
        low = 0.0 if successes == 0 else _beta_ppf(alpha / 2, successes, n - successes + 1)
        high = 1.0 if successes == n else _beta_ppf(1 - alpha / 2, successes + 1, n - successes)
        return low, high
    raise ValueError(f"unknown method {method!r}: use adjusted-wald, wilson or exact")


def completion_estimate(successes: int, n: int) -> float:
    """Best small-sample point estimate of a completion rate.

    Lewis & Sauro (2006), "When 100% really isn't 100%", JUS 1(3), 136–150 (and Sauro & Lewis
    2016, ch. 3): with the observed p = x/n — p ≤ 0.5: Wilson, (x + z²/2)/(n + z²) with
    z = 1.96; 0.5 < p < 0.9: the maximum-likelihood estimate x/n; p ≥ 0.9: Laplace,
    (x + 1)/(n + 2).
    """
    _counts(successes, n)
    p = successes / n
    if p <= 0.5:
        z2 = 1.96**2
        return (successes + z2 / 2) / (n + z2)
    if p < 0.9:
        return p
    return (successes + 1) / (n + 2)


# ---------------------------------------------------------------------------------------------
# Means and times.


def _t_interval(values: list[float], confidence: float) -> Interval:
    n = len(values)
    mean = _mean(values)
    if n < 2:
        return Interval(mean, NAN, NAN)
    sd = math.sqrt(_sum_squares(values, mean) / (n - 1))
    t = _t_ppf(1 - (1 - confidence) / 2, n - 1)
    half = t * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the t interval mean ± t(α/2, n−1)·s/√n with the sample SD."""
    return _t_interval(_numbers(values, "values"), _confidence(confidence))


def geometric_mean_ci(times: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(geometric mean, low, high) of task times: a t interval on ln t, exponentiated.

    exp(mean(ln t) ± t(α/2, n−1)·sd(ln t)/√n). Recommended for n < 25 by Sauro & Lewis (2010),
    "Average task times in usability tests: what to report?", CHI 2010, 2347–2350; and
    Sauro & Lewis (2016), ch. 3.
    """
    m, low, high = _t_interval(_log_times(times), _confidence(confidence))
    return math.exp(m), math.exp(low), math.exp(high)


def median_ci(times: Iterable[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(median, low, high): the binomial (order-statistic) interval around the median.

    The lower rank is np − z·√(np(1−p)) with p = 0.5, rounded to the nearest whole number, r;
    the upper rank is its mirror image, n + 1 − r, so the interval is symmetric in rank about
    the median's position (n + 1)/2; then the observations at those ranks (1-based, sorted).
    Sauro & Lewis (2016), ch. 3, for n ≥ 25 (n = 30: 15 − 5.37 = 9.63, the 10th and the 21st
    times); the same ranks as Gardner & Altman's normal approximation, r = n/2 − z√n/2 and
    s = 1 + n/2 + z√n/2, each rounded (Statistics with Confidence, 2000, ch. 8).
    """
    values = _times_array(times)
    n = values.size
    z = _z(confidence)
    low_rank = min(max(1, math.floor(n * 0.5 - z * math.sqrt(n * 0.25) + 0.5)), (n + 1) // 2)
    # Only the order statistics that are needed, each in its sorted place (a selection in
    # linear time, not a sort): the interval's two and the median's one or two.
    mid = (n - 1) // 2
    picked = np.partition(values, sorted({low_rank - 1, mid, n - 1 - mid, n - low_rank}))
    # The median as scipy.stats.scoreatpercentile(·, 50) gives it: the middle value, or both
    # middle values weighted ½ each and added.
    median = float(picked[mid]) if n % 2 else float(picked[mid] * 0.5 + picked[mid + 1] * 0.5)
    return median, float(picked[low_rank - 1]), float(picked[n - low_rank])


def seq_summary(ratings: Iterable[int], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of Single Ease Question ratings (1–7), a t interval.

    Sauro & Dumas (2009), CHI 2009, 1599–1608. Ratings outside 1–7 are refused.
    """
    if isinstance(ratings, np.ndarray) and ratings.dtype.kind in "iuf":
        if ratings.size and not np.isin(ratings, [1, 2, 3, 4, 5, 6, 7]).all():
            raise ValueError("SEQ ratings are whole numbers 1–7")
        return mean_ci(ratings, confidence)
    values = list(ratings)
    for r in values:
        if isinstance(r, bool) or not isinstance(r, (int, float)) or r != int(r) or not 1 <= r <= 7:
            raise ValueError(f"SEQ ratings are whole numbers 1–7, got {r!r}")
    return mean_ci(values, confidence)


# ---------------------------------------------------------------------------------------------
# Other questionnaires.


def nps(ratings: Iterable[int]) -> float:
    """Net Promoter Score, −100…100: % promoters (9–10) − % detractors (0–6).

    Reichheld, F. (2003). The one number you need to grow. Harvard Business Review 81(12).
    """
    if isinstance(ratings, np.ndarray) and ratings.dtype.kind in "iuf" and ratings.size:
        # A numeric array: checked and counted in vector operations (nan fails every check).
        ok = (ratings >= 0) & (ratings <= 10) & (ratings == np.floor(ratings))
        if not ok.all():
            raise ValueError(f"NPS ratings are whole numbers 0–10, got {ratings[~ok][0].item()!r}")
        promoters, detractors = int((ratings >= 9).sum()), int((ratings <= 6).sum())
        return 100 * (promoters - detractors) / ratings.size
    values = list(ratings)
    if not values:
        raise ValueError("no ratings given: need at least one")
    for r in values:
        if isinstance(r, bool) or not isinstance(r, (int, float)) or r != int(r) or not 0 <= r <= 10:
            raise ValueError(f"NPS ratings are whole numbers 0–10, got {r!r}")
    promoters = sum(1 for r in values if r >= 9)
    detractors = sum(1 for r in values if r <= 6)
    return 100 * (promoters - detractors) / len(values)


def umux_lite(item1: int, item2: int) -> float:
    """UMUX-Lite, 0–100, from its two 7-point items: ((i1 − 1) + (i2 − 1)) / 12 × 100.

    Lewis, Utesch & Maher (2013). UMUX-LITE: when there's no time for the SUS. CHI 2013.
    """
    a, b = _likert([item1, item2], 2, 1, 7, "UMUX-Lite")
    return ((a - 1) + (b - 1)) / 12 * 100


def umux_lite_sus(score: float) -> float:
    """UMUX-Lite score mapped onto the SUS scale: 0.65 × score + 22.9.

    Lewis, Utesch & Maher (2015). Measuring perceived usability: the SUS, UMUX-LITE, and
    AltUsability. IJHCI 31(8), 496–505 (the regression-adjusted UMUX-LITEr).
    """
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
        raise ValueError(f"a UMUX-Lite score is 0–100, got {score!r}")
    return 0.65 * score + 22.9


# ---------------------------------------------------------------------------------------------
# Comparisons (Sauro & Lewis 2016, ch. 5).


def two_proportion_test(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> Comparison:
    """N−1 two-proportion test of two completion rates, with an adjusted-Wald CI of p1 − p2.

    z = (p1 − p2) / √(PQ(1/n1 + 1/n2)) × √((N − 1)/N), P = (x1 + x2)/N, two-sided p from the
    normal: the "N−1 chi-square" of Campbell (2007, Statistics in Medicine 26, 3661–3675),
    recommended by Sauro & Lewis (2016, ch. 5) for small samples. The CI adds z²/4 successes
    and z²/2 trials to each group before the Wald interval of the difference (Agresti & Caffo
    2000), as in Sauro & Lewis (2016, ch. 5).
    """
    _counts(x1, n1)
    _counts(x2, n2)
    z_crit = _z(confidence)
    p1, p2 = x1 / n1, x2 / n2
    total = n1 + n2
    pooled = (x1 + x2) / total
    denom = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if denom == 0:
        z, p_value = 0.0, 1.0
    else:
        z = (p1 - p2) / denom * math.sqrt((total - 1) / total)
        p_value = 2 * _norm_sf(abs(z))
    a1 = (x1 + z_crit**2 / 4) / (n1 + z_crit**2 / 2)
    a2 = (x2 + z_crit**2 / 4) / (n2 + z_crit**2 / 2)
    se = math.sqrt(a1 * (1 - a1) / (n1 + z_crit**2 / 2) + a2 * (1 - a2) / (n2 + z_crit**2 / 2))
    diff = a1 - a2
    return Comparison(p_value, p1 - p2, diff - z_crit * se, diff + z_crit * se, z, NAN)


def welch_t(a: Iterable[float], b: Iterable[float], confidence: float = 0.95) -> Comparison:
    """Welch's two-sample t test (unequal variances) with the CI of mean(a) − mean(b).

    df by Welch–Satterthwaite. Sauro & Lewis (2016), ch. 5 ("two-sample t-test" for
    between-subjects comparisons, with the Welch–Satterthwaite df adjustment).
    """
    x, y = _numbers(a, "values"), _numbers(b, "values")
    _confidence(confidence)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("a t test needs at least two values in each group")
    n1, n2 = len(x), len(y)
    m1, m2 = _mean(x), _mean(y)
    v1 = _sum_squares(x, m1) / (n1 - 1)
    v2 = _sum_squares(y, m2) / (n2 - 1)
    se2 = v1 / n1 + v2 / n2
    diff = m1 - m2
    if se2 == 0:
        return Comparison(1.0 if diff == 0 else 0.0, diff, diff, diff, NAN, NAN)
    se = math.sqrt(se2)
    df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = diff / se
    p_value = 2 * _t_sf(abs(t), df)
    crit = _t_ppf(1 - (1 - confidence) / 2, df)
    return Comparison(p_value, diff, diff - crit * se, diff + crit * se, t, df)


def log_time_test(
    t1: Iterable[float], t2: Iterable[float], confidence: float = 0.95
) -> Comparison:
    """Compare task times: Welch's t on ln t (Sauro & Lewis 2016, ch. 5, log-transformed times).

    ``difference``, ``low`` and ``high`` are on the log scale (ln gm1 − ln gm2); exp() of them
    is the ratio of geometric means and its CI.
    """
    # as arrays: welch_t checks them in one vector operation (they are times already checked)
    return welch_t(np.array(_log_times(t1)), np.array(_log_times(t2)), confidence)


# ---------------------------------------------------------------------------------------------
# Intervals on a scale.


def clipped(low: float, high: float, lower: float, upper: float) -> tuple[float, float]:
    """An interval clipped to the scale it describes: (max(low, lower), min(high, upper)).

    A t interval of a 1–7 rating, a 0–100 score or a share can reach past the ends of its scale
    with small samples (SEQ "(-1.0–9.0)"); no value outside the scale is possible, so the
    interval stops there (Sauro & Lewis 2016, ch. 3, report rating intervals within the scale).
    ``nan`` (no interval could be formed) stays ``nan``.
    """
    lo = low if math.isnan(low) else max(low, lower)
    hi = high if math.isnan(high) else min(high, upper)
    return float(lo), float(hi)


# ---------------------------------------------------------------------------------------------
# Targets (benchmarks): one-sided tests, Sauro & Lewis (2016), ch. 4.


class TargetTest(NamedTuple):
    """A one-sided test of a result against a target: ``confidence`` = 1 − p, the confidence
    that the result meets the target ("meets the target with 93 % confidence"); both ``nan``
    when the test cannot be formed."""

    p_value: float
    confidence: float


_UNTESTABLE = TargetTest(NAN, NAN)


def _target_share(target: float, what: str) -> float:
    if isinstance(target, bool) or not isinstance(target, (int, float)) or math.isnan(target):
        raise ValueError(f"{what} must be a number, got {target!r}")
    if not 0 <= target <= 1:
        raise ValueError(f"{what} is a share 0–1 (0.78 for 78 %), got {target}")
    return float(target)


def completion_target_test(successes: int, n: int, target: float) -> TargetTest:
    """Does the completion rate exceed ``target``? One-sided exact binomial mid-p test.

    p = P(X > x | target) + ½·P(X = x | target), X ~ Binomial(n, target): the exact
    probability of a result at least as good as the one observed if the true rate were the
    target, with only half the probability of the observed count itself (the mid-probability).
    Sauro & Lewis (2016), ch. 4, "Comparing a completion rate to a benchmark", small-sample test:
    they recommend the mid-p for small samples because the exact p is too conservative
    (Lancaster 1961; Agresti 2007).
    """
    _counts(successes, n)
    t = _target_share(target, "the completion target")
    p = _binom_mid_p(successes, n, t)
    p = min(1.0, max(0.0, p))
    return TargetTest(p, 1 - p)


def _one_sample_t(values: list[float], target: float, greater: bool) -> TargetTest:
    n = len(values)
    if n < 2:
        return _UNTESTABLE
    mean = _mean(values)
    sd = math.sqrt(_sum_squares(values, mean) / (n - 1))
    diff = mean - target if greater else target - mean
    if sd == 0:
        # No spread: t = ±∞ (p = 0 or 1), or 0/0 when the mean is the target (no test).
        if diff == 0:
            return _UNTESTABLE
        p = 0.0 if diff > 0 else 1.0
        return TargetTest(p, 1 - p)
    p = _t_sf(diff / (sd / math.sqrt(n)), n - 1)
    return TargetTest(p, 1 - p)


def time_target_test(times: Iterable[float], target_s: float) -> TargetTest:
    """Is the typical task time below ``target_s`` seconds? One-sided one-sample t test on
    ln(time) against ln(target): H1 "the geometric mean time is below the target".

    t = (ln(target) − mean(ln t)) / (sd(ln t)/√n), p = P(T(n−1) > t). Sauro & Lewis (2016),
    ch. 4, "Comparing a task time to a benchmark" (log-transform the times, then the one-sample t
    test). With fewer than two times, no test (``nan``). With no spread (all times equal) the
    test degenerates: p = 0 when the time is below the target, 1 when above, ``nan`` when equal.
    """
    values = _log_times(times)
    if isinstance(target_s, bool) or not isinstance(target_s, (int, float)) or not target_s > 0:
        raise ValueError(f"a target time is a positive number of seconds, got {target_s!r}")
    return _one_sample_t(values, math.log(target_s), greater=False)


def mean_target_test(values: Iterable[float], target: float) -> TargetTest:
    """Does the mean exceed ``target``? One-sided one-sample t test, H1 "mean > target".

    t = (mean − target) / (s/√n), p = P(T(n−1) > t). Sauro & Lewis (2016), ch. 4, "Comparing a
    satisfaction score to a benchmark" (e.g. a SUS mean against 68, the SEQ against 5.5). With
    fewer than two values, no test (``nan``). With no spread (every value the same) the test
    degenerates: p = 0 when the mean is above the target, 1 when below, ``nan`` when equal.
    """
    xs = _numbers(_array_like(values), "values")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or math.isnan(target):
        raise ValueError(f"a target must be a number, got {target!r}")
    return _one_sample_t(xs, float(target), greater=True)


# ---------------------------------------------------------------------------------------------
# CSAT and CES.


class ScoreSummary(NamedTuple):
    """A rating's summary: the mean with its t interval (clipped to the scale) and the score's
    share (CSAT: satisfied, 4–5; CES: agreeing, 5–7)."""

    n: int
    mean: float
    low: float
    high: float
    share: float


def _array_like(values: Any) -> Any:
    """A pandas Series or Index as its NumPy array (checked in one vector operation)."""
    return values.to_numpy() if hasattr(values, "to_numpy") else values


def _ratings(ratings: Iterable[int], low: int, high: int, what: str) -> list[int] | np.ndarray:
    ratings = _array_like(ratings)
    if isinstance(ratings, np.ndarray) and ratings.dtype.kind in "iuf" and ratings.size:
        # A numeric array: checked in one vector operation (nan fails every comparison), kept
        # as an array of whole numbers.
        ok = (ratings >= low) & (ratings <= high) & (ratings == np.floor(ratings))
        if not ok.all():
            r = ratings[~ok][0].item()
            raise ValueError(f"{what} ratings are whole numbers {low}–{high}, got {r!r}")
        return ratings.astype(np.int64)
    values = list(ratings.tolist() if isinstance(ratings, np.ndarray) else ratings)
    if not values:
        raise ValueError(f"no {what} ratings given: need at least one")
    for r in values:
        if isinstance(r, bool) or not isinstance(r, (int, float)) or r != r or r != int(r) \
                or not low <= r <= high:  # fmt: skip
            raise ValueError(f"{what} ratings are whole numbers {low}–{high}, got {r!r}")
    return [int(r) for r in values]


def _score_summary(values: list[int] | np.ndarray, low: int, high: int, share_from: int,
                   confidence: float) -> ScoreSummary:  # fmt: skip
    if isinstance(values, np.ndarray):
        mean, lo, hi = _t_interval(values.astype(float), _confidence(confidence))
        share = int((values >= share_from).sum()) / len(values)
    else:
        mean, lo, hi = _t_interval(list(map(float, values)), _confidence(confidence))
        share = sum(map(share_from.__le__, values)) / len(values)
    lo, hi = clipped(lo, hi, low, high)
    return ScoreSummary(len(values), mean, lo, hi, share)


def csat_summary(ratings: Iterable[int], confidence: float = 0.95) -> ScoreSummary:
    """Customer satisfaction (CSAT, one item 1 Very unsatisfied – 5 Very satisfied).

    ``share`` is the CSAT score as it is usually reported: the share answering 4 or 5, the
    "top-two-box" (satisfied or very satisfied); the mean has a t interval clipped to 1–5
    (Sauro & Lewis 2016, ch. 3, rating scales: t interval; top-box scoring, ch. 9).
    Answers outside 1–5 are refused.
    """
    return _score_summary(_ratings(ratings, 1, 5, "CSAT"), 1, 5, 4, confidence)


def ces_summary(ratings: Iterable[int], confidence: float = 0.95) -> ScoreSummary:
    """Customer Effort Score, CES 2.0 (one item "… made it easy for me to …", 1 Strongly
    disagree – 7 Strongly agree): Dixon, Toman & DeLisi (2013), *The Effortless Experience*.

    The score is the mean, with a t interval clipped to 1–7; ``share`` is the share agreeing
    (5, 6 or 7). Answers outside 1–7 are refused.
    """
    return _score_summary(_ratings(ratings, 1, 7, "CES"), 1, 7, 5, confidence)


# ---------------------------------------------------------------------------------------------
# Planning: sample sizes (Sauro & Lewis 2016, ch. 6 and 7).

_MAX_N = 10_000_000


def _positive(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or math.isinf(value):  # fmt: skip
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def _share_open(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{what} is a share between 0 and 1 (exclusive), got {value!r}")
    return float(value)


def _whole(x: float) -> int:
    """Round a sample size up; a hair above a whole number (floating error) is that number."""
    return math.ceil(x - 1e-9)


def sample_size_margin_completion(margin: float, p: float = 0.5, confidence: float = 0.95) -> int:
    """Participants for an adjusted-Wald interval of ± ``margin`` around a completion rate.

    n = z²·p(1−p)/d² − z², rounded up (at least 1): the Wald sample size less the z² that the
    adjusted-Wald interval adds to the sample. Sauro & Lewis (2016), ch. 6, "Sample size
    estimation for binomial confidence intervals" (adjusted-Wald). ``p`` is the expected rate;
    0.5, the default, needs the most participants.
    """
    d = _share_open(margin, "the margin of error")
    rate = _target_share(p, "the expected completion rate")
    z = _z(confidence)
    return max(1, _whole(z * z * rate * (1 - rate) / (d * d) - z * z))


def _iterate_t(target: Callable[[int], float], start: float) -> int:
    """Solve n = target(n) for the smallest stable whole n (Sauro & Lewis 2016, ch. 6: start
    from the z-based n, recompute with t on the new degrees of freedom until n stops changing;
    should it oscillate between two values, the larger is taken)."""
    n = max(2, _whole(start))
    seen: list[int] = []
    for _ in range(100):
        nxt = max(2, _whole(target(n)))
        if nxt == n:
            return n
        if nxt in seen:
            return max(n, nxt)
        seen.append(n)
        n = min(nxt, _MAX_N)
    return n


def sample_size_margin_mean(sd: float, margin: float, confidence: float = 0.95) -> int:
    """Participants for a t interval of ± ``margin`` around a mean (rating, SUS, time) with
    standard deviation ``sd`` (from earlier studies or a pilot).

    n = t²·s²/d² with t for n − 1 degrees of freedom, iterated from the z-based value until n
    is stable. Sauro & Lewis (2016), ch. 6, "Estimating values" (the iterative t method).
    """
    s, d = _positive(sd, "the standard deviation"), _positive(margin, "the margin of error")
    alpha = 1 - _confidence(confidence)
    z = _z(confidence)
    return _iterate_t(lambda n: (_t_ppf(1 - alpha / 2, n - 1) * s / d) ** 2,
                      (z * s / d) ** 2)  # fmt: skip


def _power(power: float) -> float:
    return _share_open(power, "power")


def sample_size_compare_proportions(
    p1: float, p2: float, power: float = 0.8, confidence: float = 0.95
) -> int:
    """Participants per condition to detect completion rates ``p1`` vs ``p2`` (between
    subjects, two-sided test at ``confidence``, with ``power``).

    n = 2·(z_α/2 + z_β)²·p̄(1−p̄)/d² + ½, rounded up, where p̄ = (p1 + p2)/2 and d = p1 − p2:
    Sauro & Lewis (2016), ch. 6, sample size for the N−1 two-proportion test (the ½ accounts
    for the N−1 adjustment of Campbell 2007).
    """
    a, b = _target_share(p1, "p1"), _target_share(p2, "p2")
    if a == b:
        raise ValueError("p1 and p2 are equal: there is no difference to detect")
    zsum = _z(confidence) + _norm_ppf(_power(power))
    pbar = (a + b) / 2
    return max(2, _whole(2 * zsum * zsum * pbar * (1 - pbar) / (a - b) ** 2 + 0.5))


def sample_size_compare_means(
    sd: float, difference: float, power: float = 0.8, confidence: float = 0.95
) -> int:
    """Participants per condition to detect a difference of means (ratings, SUS, times) of
    ``difference`` with standard deviation ``sd`` (between subjects, two-sided, with ``power``).

    n = 2·s²·(t_α/2 + t_β)²/d², t on 2(n − 1) degrees of freedom, iterated from the z-based
    value until n is stable. Sauro & Lewis (2016), ch. 6, sample size for comparing two means
    (between subjects).
    """
    s = _positive(sd, "the standard deviation")
    if isinstance(difference, bool) or not isinstance(difference, (int, float)):
        raise ValueError(f"the difference must be a number, got {difference!r}")
    d = _positive(abs(difference), "the difference to detect")
    alpha = 1 - _confidence(confidence)
    beta_q = _power(power)
    z = _z(confidence) + _norm_ppf(beta_q)

    def n_for(n: int) -> float:
        df = 2 * (n - 1)
        t = _t_ppf(1 - alpha / 2, df) + _t_ppf(beta_q, df)
        return 2 * (s * t / d) ** 2

    return _iterate_t(n_for, 2 * (s * z / d) ** 2)


# ---------------------------------------------------------------------------------------------
# Problem discovery (Sauro & Lewis 2016, ch. 7; Lewis 2001).


def discovery_share(p: float, n: int) -> float:
    """Expected share of the problems of probability ``p`` seen at least once by ``n``
    participants: 1 − (1 − p)^n (Virzi 1992; Nielsen & Landauer 1993; Sauro & Lewis 2016,
    ch. 7)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"p is a probability 0–1, got {p!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n is a whole number of participants, got {n!r}")
    return 1 - (1 - p) ** n


def discovery_n(p: float, goal: float) -> int:
    """The smallest number of participants n with 1 − (1 − p)^n ≥ ``goal``: enough to see a
    problem that affects a share ``p`` of users at least once with probability ``goal``.

    n = ⌈ln(1 − goal) / ln(1 − p)⌉. Sauro & Lewis (2016), ch. 7 (Table 7.1, sample sizes for
    discovery goals); Lewis (1982), Virzi (1992).
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"p is a probability above 0 and at most 1, got {p!r}")
    g = _share_open(goal, "the discovery goal")
    if p == 1:
        return 1
    return max(1, _whole(math.log(1 - g) / math.log(1 - p)))


class DiscoveryEstimate(NamedTuple):
    """The problem-discovery rate of a study from its problem × participant matrix."""

    problems: int
    """Distinct problems seen (rows with at least one participant)."""
    participants: int
    once: int
    """Problems seen by exactly one participant (N1)."""
    p_est: float
    """The unadjusted estimate: the mean of the matrix."""
    p_deflated: float
    p_good_turing: float
    p_adjusted: float
    """The small-sample estimate: the mean of the deflated and the Good–Turing estimate."""


def discovery_estimate(matrix: Sequence[Sequence[int]] | np.ndarray) -> DiscoveryEstimate:
    """Estimate p, the average probability of a problem, with the small-sample adjustment.

    ``matrix`` has one row per problem and one column per participant, 1 where that participant
    met that problem. Rows of zeros (a problem nobody met) are left out. With n participants,
    N problems, N1 of them met by one participant only, and p_est the mean of the matrix:

    p_adj = ½·(p_est − 1/n)(1 − 1/n) + ½·p_est / (1 + N1/N)

    — the mean of the deflation and the Good–Turing estimate, which removes most of the
    overestimate of p_est in samples of fewer than 20 participants. Lewis, J. R. (2001).
    Evaluation of procedures for adjusting problem-discovery rates estimated from small samples.
    IJHCI 13(4), 445–479; Sauro & Lewis (2016), ch. 7.
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[1] == 0:
        raise ValueError("the problem matrix needs one row per problem and one column per "
                         f"participant, got an array of shape {m.shape}")  # fmt: skip
    if np.isnan(m).any() or not np.isin(m, [0, 1]).all():
        raise ValueError("the problem matrix holds 1 (met the problem) or 0 (did not)")
    m = m[m.sum(axis=1) > 0]
    if not m.shape[0]:
        raise ValueError("no problem was met by anyone: the discovery rate cannot be estimated")
    problems, n = m.shape
    once = int((m.sum(axis=1) == 1).sum())
    p_est = float(m.mean())
    deflated = (p_est - 1 / n) * (1 - 1 / n)
    good_turing = p_est / (1 + once / problems)
    return DiscoveryEstimate(problems, n, once, p_est, deflated, good_turing,
                             (deflated + good_turing) / 2)  # fmt: skip


def discovery_p_adjusted(matrix: Sequence[Sequence[int]] | np.ndarray) -> float:
    """The small-sample adjusted discovery rate of :func:`discovery_estimate` (Lewis 2001)."""
    return discovery_estimate(matrix).p_adjusted
