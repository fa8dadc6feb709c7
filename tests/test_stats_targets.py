"""Targets, CSAT/CES, clipping, the median's ranks and planning in usetest.stats, against
published worked examples; the source of every expected number is named next to it.

Where the book's own figure could not be checked, the test says so and uses an independent
published computation (a table value, another book's example, an R result) instead.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats as st

from usetest import stats


# --- targets (Sauro & Lewis 2016, ch. 4) -------------------------------------------------------
def test_completion_target_mid_p():
    # Sauro & Lewis (2016, ch. 4), small-sample test against a benchmark: 10 of 11 users
    # complete, benchmark 70 %. From the binomial table (n = 11, p = .7): P(X = 10) = .0932,
    # P(X = 11) = .0198; exact p = .113, mid-p = .0198 + .0932/2 = .066 (93 % confidence).
    # (The book's figures are recalled, not checked online; the table values are standard.)
    result = stats.completion_target_test(10, 11, 0.70)
    assert result.p_value == pytest.approx(0.0198 + 0.0932 / 2, abs=0.0005)
    assert result.confidence == pytest.approx(1 - result.p_value)
    assert round(result.confidence, 2) == 0.93


def test_completion_target_edges_and_refusals():
    # every participant succeeds at a target of 100 %: only half the point mass counts
    assert stats.completion_target_test(5, 5, 1.0).p_value == pytest.approx(0.5)
    # nobody succeeds: the rate cannot exceed any positive target
    assert stats.completion_target_test(0, 8, 0.5).confidence < 0.01
    with pytest.raises(ValueError, match="share 0–1"):
        stats.completion_target_test(3, 5, 78)
    with pytest.raises(ValueError, match="successes"):
        stats.completion_target_test(6, 5, 0.5)


# R's sleep data (Cushny & Peebles 1905; R datasets::sleep), group 1 — R's documented
# t.test(extra[group == 1]) prints t = 1.3257, df = 9, p-value = 0.2176 (two-sided).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]


def test_mean_target_one_sided_t():
    result = stats.mean_target_test(SLEEP_1, 0)
    assert result.p_value == pytest.approx(0.2176 / 2, abs=0.0001)  # one-sided: half of it
    # the other way round: the mean is above the target, so "exceeds" is likely
    assert stats.mean_target_test(SLEEP_1, 3).confidence < 0.01


def test_mean_target_sus_against_68():
    # Sauro & Lewis (2016, ch. 4): SUS against the average of 68. Checked against scipy's
    # one-sample t test (an independent implementation), one-sided "greater".
    sus = [77.5, 72.5, 80, 62.5, 85, 70, 90, 67.5, 75, 82.5]
    ref = st.ttest_1samp(sus, 68, alternative="greater")
    result = stats.mean_target_test(sus, 68)
    assert result.p_value == pytest.approx(ref.pvalue)
    assert result.confidence > 0.99


def test_mean_target_degenerate_cases():
    assert all(math.isnan(x) for x in stats.mean_target_test([6], 5.5))  # n = 1: no test
    assert stats.mean_target_test([7, 7, 7], 5.5) == (0.0, 1.0)  # no spread, above target
    assert stats.mean_target_test([4, 4], 5.5) == (1.0, 0.0)
    assert all(math.isnan(x) for x in stats.mean_target_test([5.5, 5.5], 5.5))


def test_time_target_log_t():
    # Sauro & Lewis (2016, ch. 4): log-transform the times, one-sample t against ln(target).
    # MeasuringU's task-time example (55, 65, 75, 62, 45, 135 s; geometric mean 68 s): below
    # 100 s? Checked against scipy's one-sample t on the logs, one-sided "less".
    times = [55, 65, 75, 62, 45, 135]
    ref = st.ttest_1samp([math.log(t) for t in times], math.log(100), alternative="less")
    result = stats.time_target_test(times, 100)
    assert result.p_value == pytest.approx(ref.pvalue)
    assert 0.95 < result.confidence < 0.99  # 100 s sits just above the 95 % CI (46, 101)
    assert stats.time_target_test(times, 40).confidence < 0.01
    assert all(math.isnan(x) for x in stats.time_target_test([30], 60))
    with pytest.raises(ValueError, match="positive"):
        stats.time_target_test(times, 0)


# --- clipping, CSAT, CES ---------------------------------------------------------------------
def test_clipped():
    assert stats.clipped(-1.0, 9.0, 1, 7) == (1.0, 7.0)  # the SEQ "(-1.0–9.0)"
    assert stats.clipped(18.4, 117.9, 0, 100) == (18.4, 100.0)  # SUS "18.4–117.9"
    low, high = stats.clipped(float("nan"), float("nan"), 0, 1)
    assert math.isnan(low) and math.isnan(high)


def test_csat_summary():
    # CSAT: share of 4 and 5 (top-two-box); mean with a t interval (scipy's, independent),
    # clipped to 1–5.
    ratings = [5, 4, 4, 3, 5, 2, 4, 5]
    result = stats.csat_summary(ratings)
    assert result.n == 8 and result.mean == pytest.approx(4.0)
    assert result.share == pytest.approx(6 / 8)
    low, high = st.t.interval(0.95, 7, loc=4.0, scale=st.sem(ratings))
    assert (result.low, result.high) == pytest.approx((low, min(high, 5)))
    # a small sample near the top: the interval stops at 5
    assert stats.csat_summary([5, 5, 4]).high == 5.0
    with pytest.raises(ValueError, match="CSAT ratings are whole numbers 1–5"):
        stats.csat_summary([4, 6])
    with pytest.raises(ValueError, match="no CSAT"):
        stats.csat_summary([])
    # the analysis layer passes pandas columns: taken as they are
    assert stats.csat_summary(pd.Series(ratings)) == result
    assert stats.mean_target_test(pd.Series([70, 80, 75]), 68).confidence > 0.9


def test_ces_summary():
    # CES 2.0 (Dixon, Toman & DeLisi 2013): 1–7 agreement; share agreeing = 5, 6 or 7.
    result = stats.ces_summary([7, 6, 5, 4, 2, 6])
    assert result.share == pytest.approx(4 / 6)
    assert result.mean == pytest.approx(5.0)
    assert stats.ces_summary([1, 1, 2]).low == 1.0  # clipped at the bottom of the scale
    one = stats.ces_summary([6])
    assert one.mean == 6 and math.isnan(one.low) and math.isnan(one.high)
    with pytest.raises(ValueError, match="CES ratings are whole numbers 1–7"):
        stats.ces_summary([0, 5])


# --- the median's interval, symmetric in rank (Sauro & Lewis 2016, ch. 3) ---------------------
def test_median_ci_symmetric_in_rank():
    # Sauro & Lewis (2016, ch. 3), n = 30: 15 ± 1.96·√7.5 = 15 ± 5.37 -> the 10th and the
    # 21st times (issue 12: not the 9th and the 21st).
    median, low, high = stats.median_ci(range(1, 31))
    assert (low, high) == (10, 21) and median == 15.5
    # Gardner & Altman, Statistics with Confidence (2000, ch. 8; OpenEpi's default example):
    # n = 100, 95 % -> the 40th and the 61st observations.
    assert stats.median_ci(range(1, 101))[1:] == (40, 61)


# --- planning (Sauro & Lewis 2016, ch. 6 and 7) -----------------------------------------------
def test_discovery_n_and_share():
    # MeasuringU, "Deriving a problem discovery sample size" (Sauro 2008): p = .10, 90 %
    # likelihood of seeing the problem once -> log(.10)/log(.90) = 21.85 -> 22 users.
    assert stats.discovery_n(0.10, 0.90) == 22
    # Sauro & Lewis (2016), Table 7.1, p = .25 and p = .50 for the goals 50, 75, 85, 90, 95, 99 %
    # (the rows as recalled, not checked online; each is ⌈ln(1 − goal)/ln(1 − p)⌉ by hand)
    goals = (0.50, 0.75, 0.85, 0.90, 0.95, 0.99)
    assert [stats.discovery_n(0.25, g) for g in goals] == [3, 5, 7, 9, 11, 17]
    assert [stats.discovery_n(0.50, g) for g in goals] == [1, 2, 3, 4, 5, 7]
    # Nielsen & Landauer (1993), "five users find 85 %": 1 − (1 − .31)^5 = .844 — just short
    # of 85 %, so the smallest n that truly reaches 85 % is 6.
    assert stats.discovery_share(0.31, 5) == pytest.approx(0.844, abs=0.001)
    assert stats.discovery_n(0.31, 0.85) == 6
    assert stats.discovery_n(1.0, 0.99) == 1
    with pytest.raises(ValueError, match="goal"):
        stats.discovery_n(0.3, 1.0)
    with pytest.raises(ValueError, match="probability"):
        stats.discovery_n(0, 0.9)


# Sauro & Lewis (2016), Table 7.5 (as transcribed in the R package U.T.lity's tests): 4
# participants, 7 problems; one row per problem.
TABLE_7_5 = [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 0],
             [1, 1, 1, 0], [1, 0, 0, 1], [1, 1, 0, 0]]  # fmt: skip


def test_discovery_adjustment_table_7_5():
    # Sauro & Lewis (2016, p. 152): p_est = .71, deflated .345, Good–Turing .621, adjusted
    # .48. The book works with p_est rounded to .71; from the exact 5/7 the values are .348,
    # .625 and .487, within a hundredth of the book's.
    est = stats.discovery_estimate(TABLE_7_5)
    assert (est.problems, est.participants, est.once) == (7, 4, 1)
    assert est.p_est == pytest.approx(5 / 7)
    assert est.p_deflated == pytest.approx(0.345, abs=0.005)
    assert est.p_good_turing == pytest.approx(0.621, abs=0.005)
    assert est.p_adjusted == pytest.approx(0.48, abs=0.01)
    assert stats.discovery_p_adjusted(TABLE_7_5) == est.p_adjusted
    # p. 155: with p = .48 and 4 participants, 1 − (1 − .48)^4 = 92.7 % found so far
    assert stats.discovery_share(0.48, 4) == pytest.approx(0.927, abs=0.001)


def test_discovery_matrix_refusals():
    # a problem nobody met is left out (it cannot have been recorded)
    assert stats.discovery_estimate([*TABLE_7_5, [0, 0, 0, 0]]).problems == 7
    with pytest.raises(ValueError, match="1 .* or 0"):
        stats.discovery_estimate([[1, 2]])
    with pytest.raises(ValueError, match="no problem"):
        stats.discovery_estimate([[0, 0]])
    with pytest.raises(ValueError, match="one row per problem"):
        stats.discovery_estimate([1, 0, 1])


def test_sample_size_margin_mean_iterates_t():
    # Penn State STAT 800, 4.6.4 (the iterative method): s = 400, E = 120, 90 % confidence;
    # starting from n = 20, t = 1.729 -> 33.21; n = 34, t = 1.697 -> 31.99; "sample 32".
    assert stats.sample_size_margin_mean(400, 120, confidence=0.90) == 32
    with pytest.raises(ValueError, match="margin"):
        stats.sample_size_margin_mean(1.2, 0)


def test_sample_size_margin_completion():
    # The Wald sample size for ±5 points at 95 % with p = .5 is the textbook
    # 1.96²·.25/.05² = 384.16 (the familiar "385"); the adjusted-Wald interval adds z² = 3.84
    # to n, so Sauro & Lewis (2016, ch. 6) subtract it: 380.3 -> 381. (The book's own example
    # could not be found online.)
    assert stats.sample_size_margin_completion(0.05) == 381
    # ±10 points: 96.04 − 3.84 = 92.2 -> 93
    assert stats.sample_size_margin_completion(0.10) == 93
    # an expected rate away from .5 needs fewer: p = .8, ±10 points: 61.5 − 3.8 = 57.6 -> 58
    assert stats.sample_size_margin_completion(0.10, p=0.8) == 58
    with pytest.raises(ValueError, match="margin"):
        stats.sample_size_margin_completion(0)


def test_sample_size_compare_means_cohen():
    # Cohen (1988), Statistical Power Analysis, Table 2.4.1: two-sided α = .05, power .80,
    # n per group 64 for d = .5 and 26 for d = .8 (as G*Power's t test gives).
    assert stats.sample_size_compare_means(1.0, 0.5) == 64
    assert stats.sample_size_compare_means(10, 8) == 26
    assert stats.sample_size_compare_means(10, -8) == 26  # the sign of the difference is moot
    with pytest.raises(ValueError, match="difference"):
        stats.sample_size_compare_means(1.0, 0)


def test_sample_size_compare_proportions():
    # Sauro & Lewis (2016, ch. 6): n = 2(z_α/2 + z_β)²·p̄(1−p̄)/d² + ½ per group. The book's
    # worked example could not be found online; by hand with the normal table's z = 1.96 and
    # 0.8416: .7 vs .9, p̄ = .8: 2·2.8016²·.16/.04 + .5 = 63.3 -> 64.
    assert stats.sample_size_compare_proportions(0.7, 0.9) == 64
    # the pooled part is the textbook 2(z_α/2 + z_β)²/ES², ES = d/√(p̄(1−p̄)) (vrcacademy's
    # calculator, among others): .5 vs .6, p̄ = .55: 2·2.8016²·.2475/.01 = 388.5, + ½ -> 390
    assert stats.sample_size_compare_proportions(0.5, 0.6) == 390
    with pytest.raises(ValueError, match="equal"):
        stats.sample_size_compare_proportions(0.5, 0.5)
