"""The statistics as usetest computed them up to commit 71d29bd: scipy.stats for every
distribution, Python lists and sorted() for every sum and median.

tests/test_stats_special.py checks that :mod:`usetest.stats` (scipy.special, selection instead
of a sort) gives exactly these numbers, to the last bit. Only the functions whose code changed
are kept; input checks are left out (the tests give valid input).
"""

from __future__ import annotations

import math
from typing import Any

from scipy import stats as _st

NAN = float("nan")


def _z(confidence: float) -> float:
    return float(_st.norm.ppf(1 - (1 - confidence) / 2))


def completion_ci(successes: int, n: int, confidence: float = 0.95,
                  method: str = "adjusted-wald") -> tuple[float, float]:  # fmt: skip
    alpha = 1 - confidence
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
    low = 0.0 if successes == 0 else float(_st.beta.ppf(alpha / 2, successes, n - successes + 1))
    high = 1.0 if successes == n else float(_st.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return low, high


def _t_interval(values: list[float], confidence: float) -> tuple[float, float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, NAN, NAN
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = float(_st.t.ppf(1 - (1 - confidence) / 2, n - 1))
    half = t * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def _floats(values: Any) -> list[float]:
    return [float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def mean_ci(values: Any, confidence: float = 0.95) -> tuple[float, float, float]:
    return _t_interval(_floats(values), confidence)


def geometric_mean_ci(times: Any, confidence: float = 0.95) -> tuple[float, float, float]:
    logs = [math.log(t) for t in _floats(times)]
    m, low, high = _t_interval(logs, confidence)
    return math.exp(m), math.exp(low), math.exp(high)


def median_ci(times: Any, confidence: float = 0.95) -> tuple[float, float, float]:
    values = sorted(_floats(times))
    n = len(values)
    median = float(_st.scoreatpercentile(values, 50)) if n > 1 else values[0]
    z = _z(confidence)
    low_rank = min(max(1, math.floor(n * 0.5 - z * math.sqrt(n * 0.25) + 0.5)), (n + 1) // 2)
    return median, values[low_rank - 1], values[n - low_rank]


def two_proportion_test(x1: int, n1: int, x2: int, n2: int,
                        confidence: float = 0.95) -> tuple[float, ...]:  # fmt: skip
    z_crit = _z(confidence)
    p1, p2 = x1 / n1, x2 / n2
    total = n1 + n2
    pooled = (x1 + x2) / total
    denom = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if denom == 0:
        z, p_value = 0.0, 1.0
    else:
        z = (p1 - p2) / denom * math.sqrt((total - 1) / total)
        p_value = float(2 * _st.norm.sf(abs(z)))
    a1 = (x1 + z_crit**2 / 4) / (n1 + z_crit**2 / 2)
    a2 = (x2 + z_crit**2 / 4) / (n2 + z_crit**2 / 2)
    se = math.sqrt(a1 * (1 - a1) / (n1 + z_crit**2 / 2) + a2 * (1 - a2) / (n2 + z_crit**2 / 2))
    diff = a1 - a2
    return p_value, p1 - p2, diff - z_crit * se, diff + z_crit * se, z, NAN


def welch_t(a: Any, b: Any, confidence: float = 0.95) -> tuple[float, ...]:
    x, y = _floats(a), _floats(b)
    n1, n2 = len(x), len(y)
    m1, m2 = sum(x) / n1, sum(y) / n2
    v1 = sum((v - m1) ** 2 for v in x) / (n1 - 1)
    v2 = sum((v - m2) ** 2 for v in y) / (n2 - 1)
    se2 = v1 / n1 + v2 / n2
    diff = m1 - m2
    if se2 == 0:
        return 1.0 if diff == 0 else 0.0, diff, diff, diff, NAN, NAN
    se = math.sqrt(se2)
    df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = diff / se
    p_value = float(2 * _st.t.sf(abs(t), df))
    crit = float(_st.t.ppf(1 - (1 - confidence) / 2, df))
    return p_value, diff, diff - crit * se, diff + crit * se, t, df


def log_time_test(t1: Any, t2: Any, confidence: float = 0.95) -> tuple[float, ...]:
    return welch_t([math.log(t) for t in _floats(t1)], [math.log(t) for t in _floats(t2)],
                   confidence)  # fmt: skip


def completion_target_test(successes: int, n: int, target: float) -> tuple[float, float]:
    p = float(_st.binom.sf(successes, n, target) + 0.5 * _st.binom.pmf(successes, n, target))
    p = min(1.0, max(0.0, p))
    return p, 1 - p


def _one_sample_t(values: list[float], target: float, greater: bool) -> tuple[float, float]:
    n = len(values)
    if n < 2:
        return NAN, NAN
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    diff = mean - target if greater else target - mean
    if sd == 0:
        if diff == 0:
            return NAN, NAN
        p = 0.0 if diff > 0 else 1.0
        return p, 1 - p
    p = float(_st.t.sf(diff / (sd / math.sqrt(n)), n - 1))
    return p, 1 - p


def time_target_test(times: Any, target_s: float) -> tuple[float, float]:
    return _one_sample_t([math.log(t) for t in _floats(times)], math.log(target_s), greater=False)


def mean_target_test(values: Any, target: float) -> tuple[float, float]:
    return _one_sample_t(_floats(values), float(target), greater=True)


def t_ppf(q: float, df: float) -> float:
    return float(_st.t.ppf(q, df))


def norm_ppf(q: float) -> float:
    return float(_st.norm.ppf(q))


def score_summary(values: list[int], low: int, high: int,
                  share_from: int) -> tuple[int, float, float, float, float]:  # fmt: skip
    mean, lo, hi = _t_interval([float(v) for v in values], 0.95)
    lo = lo if math.isnan(lo) else max(lo, low)
    hi = hi if math.isnan(hi) else min(hi, high)
    share = sum(1 for v in values if v >= share_from) / len(values)
    return len(values), mean, float(lo), float(hi), share
