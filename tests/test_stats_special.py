"""usetest.stats on scipy.special and NumPy gives exactly what it gave on scipy.stats.

The reference is tests/stats_reference.py, the code as it was up to commit 71d29bd (scipy.stats
distributions, Python lists, sorted()). Every comparison is ``==`` on the float's bits (via
``repr``, so nan equals nan): the summary's JSON prints all seventeen digits.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from scipy import stats as st

from tests import stats_reference as ref
from usetest import stats

CONFIDENCES = [0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999]
QS = [1e-6, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
      0.975, 0.99, 0.995, 0.999, 1 - 1e-6]  # fmt: skip


def same(a: object, b: object) -> bool:
    """The same numbers to the last bit (nan equal to nan; 0.0 and -0.0 told apart)."""
    return repr(tuple(a) if isinstance(a, tuple) else a) == repr(tuple(b) if isinstance(b, tuple) else b)


def test_t_quantiles_and_tails_are_scipy_stats() -> None:
    dfs = [*range(1, 400), 0.5, 1.5, 2.7, 7.31, 19.999, 58.2, 1e3, 1e5, 1e7]
    for df, q in itertools.product(dfs, QS):
        assert same(stats._t_ppf(q, df), float(st.t.ppf(q, df))), (q, df)
    for df, x in itertools.product(dfs, [0.0, 0.01, 0.5, 1, 1.96, 2.5, 4, 10, 40]):
        assert same(stats._t_sf(x, df), float(st.t.sf(x, df))), (x, df)


def test_normal_quantiles_and_tails_are_scipy_stats() -> None:
    for q in [*QS, *(c + (1 - c) / 2 for c in CONFIDENCES)]:
        assert same(stats._norm_ppf(q), float(st.norm.ppf(q))), q
    for x in np.linspace(0, 9, 901).tolist():
        assert same(stats._norm_sf(x), float(st.norm.sf(x))), x


def test_beta_quantiles_are_scipy_stats() -> None:
    grid = [(q, x, n - x + 1) for n in range(1, 121) for x in range(1, n + 1)
            for q in (0.0005, 0.005, 0.025, 0.05, 0.95, 0.975)]  # fmt: skip
    old = st.beta.ppf(*np.array(grid).T).tolist()  # one call: elementwise the same ufunc
    for (q, a, b), expected in zip(grid, old, strict=True):
        assert same(stats._beta_ppf(q, a, b), expected), (q, a, b)


def test_binomial_mid_p_is_scipy_stats() -> None:
    targets = [0.0, 0.001, 0.05, 0.25, 0.5, 0.7, 0.78, 0.8, 0.9, 0.95, 0.999, 1.0]
    grid = [(x, n, p) for n in range(1, 151) for x in range(n + 1) for p in targets]
    x, n, p = (np.array(column) for column in zip(*grid, strict=True))
    old = (st.binom.sf(x, n, p) + 0.5 * st.binom.pmf(x, n, p)).tolist()
    for (xi, ni, pi), expected in zip(grid, old, strict=True):
        assert same(stats._binom_mid_p(xi, ni, pi), expected), (xi, ni, pi)


def test_completion_intervals_and_targets_unchanged() -> None:
    for n in [*range(1, 26), 40, 60]:
        for x in range(n + 1):
            for method in ("adjusted-wald", "wilson", "exact"):
                for c in (0.9, 0.95, 0.99):
                    assert same(stats.completion_ci(x, n, c, method),
                                ref.completion_ci(x, n, c, method)), (x, n, method, c)  # fmt: skip
            for target in (0.5, 0.78, 0.9):
                assert same(stats.completion_target_test(x, n, target),
                            ref.completion_target_test(x, n, target))  # fmt: skip


def samples() -> list[list[float]]:
    """Task times and ratings of many sizes: lognormal seconds (rounded to the millisecond, as
    stored), whole ratings (ties), a constant sample."""
    rng = random.Random(15)
    out: list[list[float]] = []
    for n in [*range(1, 41), 57, 99, 100, 250, 1001]:
        out.append([round(60 * rng.lognormvariate(0, 0.6), 3) for _ in range(n)])
        out.append([float(rng.randint(1, 7)) for _ in range(n)])
    out.append([12.5] * 9)
    return out


@pytest.mark.parametrize("kind", ["list", "array", "int-array"])
def test_intervals_unchanged_for_lists_and_arrays(kind: str) -> None:
    for xs in samples():
        given: object = (xs if kind == "list" else np.array(xs) if kind == "array"
                         else np.array([max(1, round(v)) for v in xs], dtype=np.int64))  # fmt: skip
        for c in (0.9, 0.95, 0.99):
            assert same(stats.mean_ci(given, c), ref.mean_ci(given, c))
            assert same(stats.median_ci(given, c), ref.median_ci(given, c)), (len(xs), c)
            assert same(stats.geometric_mean_ci(given, c), ref.geometric_mean_ci(given, c))
        assert same(stats.time_target_test(given, 60), ref.time_target_test(given, 60))
        assert same(stats.mean_target_test(given, 5.5), ref.mean_target_test(given, 5.5))


def test_comparisons_unchanged() -> None:
    pool = [xs for xs in samples() if len(xs) >= 2]
    rng = random.Random(3)
    for _ in range(300):
        a, b = rng.choice(pool), rng.choice(pool)
        given_a = np.array(a) if rng.random() < 0.5 else a
        assert same(stats.welch_t(given_a, b), ref.welch_t(given_a, b))
        assert same(stats.log_time_test(given_a, b), ref.log_time_test(given_a, b))
    for n1, n2 in [(5, 5), (8, 8), (12, 20), (40, 40), (3, 60)]:
        for x1, x2 in itertools.product(range(n1 + 1), range(n2 + 1)):
            assert same(stats.two_proportion_test(x1, n1, x2, n2),
                        ref.two_proportion_test(x1, n1, x2, n2))  # fmt: skip


def test_sum_of_squares_is_the_generators() -> None:
    """libm's pow(d, 2), not d·d: they differ in the last bit of about one value in a thousand."""
    rng = np.random.default_rng(1)
    xs = rng.lognormal(0, 3, 200_000).tolist()
    for lo in range(0, len(xs), 1000):
        chunk = xs[lo:lo + 1000]
        m = sum(chunk) / len(chunk)
        assert same(stats._sum_squares(chunk, m), sum((v - m) ** 2 for v in chunk))


def test_median_ci_on_a_large_array_without_sorting_it() -> None:
    rng = np.random.default_rng(7)
    times = np.round(rng.lognormal(4, 0.7, 100_001), 3)
    before = times.copy()
    assert same(stats.median_ci(times), ref.median_ci(times))
    assert same(stats.median_ci(times[:-1]), ref.median_ci(times[:-1]))
    assert np.array_equal(times, before)  # the caller's array is left as it was


@pytest.mark.parametrize("bad, message", [
    (np.array([3.0, math.nan]), "times must be numbers, got nan"),
    (np.array([], dtype=float), "no times given"),
    (np.array([3.0, 0.0, -1.0]), "times must be positive (seconds), got 0.0"),
    ([3.0, -2.5], "times must be positive (seconds), got -2.5"),
    ([3.0, "4"], "times must be numbers, got '4'"),
])  # fmt: skip
def test_bad_times_are_refused_with_the_same_messages(bad: object, message: str) -> None:
    for f in (stats.median_ci, stats.geometric_mean_ci):
        with pytest.raises(ValueError) as info:
            f(bad)  # type: ignore[arg-type]
        assert message in str(info.value)


def test_sample_sizes_use_the_same_quantiles() -> None:
    # Sauro & Lewis (2016), ch. 6: the published answers stay (tests/test_plan.py has more);
    # here the iteration's t and z are scipy.stats' to the last bit.
    for df in range(1, 200):
        for q in (0.8, 0.9, 0.95, 0.975, 0.995):
            assert same(stats._t_ppf(q, df), ref.t_ppf(q, df))
    for q in (0.5, 0.8, 0.9, 0.95, 0.975, 0.995):
        assert same(stats._norm_ppf(q), ref.norm_ppf(q))


def test_csat_and_ces_unchanged_and_arrays_checked_at_once() -> None:
    rng = random.Random(9)
    for n in (1, 2, 3, 7, 40, 1000):
        for f, top in ((stats.csat_summary, 5), (stats.ces_summary, 7)):
            xs = [rng.randint(1, top) for _ in range(n)]
            reference = ref.score_summary(xs, 1, top, 4 if top == 5 else 5)
            for given in (xs, np.array(xs), np.array(xs, dtype=float)):
                assert same(tuple(f(given)), reference)
    for bad, shown in [(np.array([1, 2, 9]), "9"), (np.array([1.0, math.nan]), "nan"),
                       (np.array([1.5, 2.0]), "1.5"), (np.array([2.0, math.inf]), "inf")]:  # fmt: skip
        with pytest.raises(ValueError, match=f"CSAT ratings are whole numbers 1–5, got {shown}"):
            stats.csat_summary(bad)
