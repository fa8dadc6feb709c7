"""usetest.stats against published worked examples; the source of every number is named.

Where no published example could be found for a function, the test says so and checks it
against an independent implementation (scipy) or a calculation written out by hand.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats as st

from usetest import stats


# --- SUS --------------------------------------------------------------------------------------
def test_sus_score_published_examples():
    # silleknarf/SUS README: answers 4152514231 "yields - SUS Score: 85"
    assert stats.sus_score([4, 1, 5, 2, 5, 1, 4, 2, 3, 1]) == 85.0
    # jjw3952/mcotear sus_score examples / Brooke (1996) range: the worst and best answers
    assert stats.sus_score([1, 5] * 5) == 0.0
    assert stats.sus_score([5, 1] * 5) == 100.0
    # all neutral (3) answers: every item contributes 2, 20 × 2.5 = 50 (Brooke 1996 scoring)
    assert stats.sus_score([3] * 10) == 50.0


@pytest.mark.parametrize(
    ("answers", "message"),
    [([3] * 9, "needs 10 answers, got 9"), ([3] * 9 + [6], "answer 6 is outside 1–5"),
     ([3] * 9 + [0], "outside 1–5"), ([3] * 9 + [2.5], "whole numbers")],
)  # fmt: skip
def test_sus_score_refuses_bad_answers(answers, message):
    with pytest.raises(ValueError, match=message):
        stats.sus_score(answers)


def test_sus_subscales():
    # Lewis & Sauro (2009): learnability = items 4 and 10, usability = the other eight, each
    # rescaled to 0–100. Hand check for the silleknarf example (4152514231):
    # contributions 3,4,4,3,4,4,3,3,2,4 -> learnability (3+4)=7 × 12.5 = 87.5,
    # usability (34−7)=27 × 3.125 = 84.375
    assert stats.sus_subscales([4, 1, 5, 2, 5, 1, 4, 2, 3, 1]) == (87.5, 84.375)
    assert stats.sus_subscales([5, 1] * 5) == (100.0, 100.0)


# Sauro & Lewis (2016) Table 8.5 curved grading scale: every band's two ends.
GRADE_BANDS = [
    ("A+", 84.1, 100), ("A", 80.8, 84.0), ("A-", 78.9, 80.7), ("B+", 77.2, 78.8),
    ("B", 74.1, 77.1), ("B-", 72.6, 74.0), ("C+", 71.1, 72.5), ("C", 65.0, 71.0),
    ("C-", 62.7, 64.9), ("D", 51.7, 62.6), ("F", 0, 51.6),
]  # fmt: skip


@pytest.mark.parametrize(("grade", "low", "high"), GRADE_BANDS)
def test_sus_grade_band_ends(grade, low, high):
    assert stats.sus_grade(low) == grade
    assert stats.sus_grade(high) == grade


def test_sus_grade_average_is_c():
    # Sauro (2011): the average SUS score, 68, is a C
    assert stats.sus_grade(68) == "C"


# MeasuringU adjective ranges (Sauro 2018, "5 ways to interpret a SUS score").
ADJECTIVE_BANDS = [
    ("Best Imaginable", 84.1, 100), ("Excellent", 80.8, 84.0), ("Good", 71.1, 80.7),
    ("OK", 51.7, 71.0), ("Poor", 25.1, 51.6), ("Worst Imaginable", 0, 25),
]  # fmt: skip


@pytest.mark.parametrize(("adjective", "low", "high"), ADJECTIVE_BANDS)
def test_sus_adjective_band_ends(adjective, low, high):
    assert stats.sus_adjective(low) == adjective
    assert stats.sus_adjective(high) == adjective


def test_bangor_adjective_means_table_3():
    # Bangor, Kortum & Miller (2009), JUS 4(3), Table 3: mean SUS per adjective
    assert stats.BANGOR_ADJECTIVE_MEANS == {
        "Worst Imaginable": 12.5, "Awful": 20.3, "Poor": 35.7, "OK": 50.9,
        "Good": 71.4, "Excellent": 85.5, "Best Imaginable": 90.9,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("score", "label"),
    [(0, "Not Acceptable"), (49.9, "Not Acceptable"), (50, "Marginal (low)"),
     (62.4, "Marginal (low)"), (62.5, "Marginal (high)"), (69.9, "Marginal (high)"),
     (70, "Acceptable"), (100, "Acceptable")],
)  # fmt: skip
def test_sus_acceptability_ranges(score, label):
    # Bangor et al. acceptability ranges: not acceptable < 50, marginal 50–70 (split at 62.5)
    assert stats.sus_acceptability(score) == label


def test_sus_percentile_follows_the_published_table():
    # Sauro (2011) via mcotear::sus_to_percentile table: 68 -> 50th, 85 -> 97th, 60 -> 29th
    assert stats.sus_percentile(68) == pytest.approx(50.0)
    assert stats.sus_percentile(85) == pytest.approx(97.0)
    assert stats.sus_percentile(60) == pytest.approx(29.0)
    assert stats.sus_percentile(100) == 100.0 and stats.sus_percentile(0) == 0.0
    # between rows: linear interpolation (80 -> 88, 85 -> 97: 82.5 -> 92.5)
    assert stats.sus_percentile(82.5) == pytest.approx(92.5)


def test_sus_percentile_is_not_a_normal_curve():
    # A normal curve with the published mean 68 and SD 12.5 (Sauro 2011) puts 85 at the
    # 91st percentile; the published table says 97. A tool using the curve fails here.
    normal = 100 * st.norm.cdf(85, 68, 12.5)
    assert abs(stats.sus_percentile(85) - normal) > 5


# --- completion rates -------------------------------------------------------------------------
def test_adjusted_wald_tullis_worked_example():
    # Tullis, measuringux.com/adjustedwald.htm (Measuring the User Experience, p. 69):
    # 4 of 5 at 95 %: lower 0.3596, upper 0.9796
    low, high = stats.completion_ci(4, 5)
    assert low == pytest.approx(0.3596, abs=5e-4)
    assert high == pytest.approx(0.9796, abs=5e-4)


def test_exact_five_of_five():
    # MeasuringU, "Confidence intervals for completion rates" (conf_intervals): 5 of 5
    # completed -> "could be as low as 48%". That figure is the exact (Clopper–Pearson) bound;
    # the adjusted Wald gives 51% for the same data.
    low, high = stats.completion_ci(5, 5, method="exact")
    assert round(low * 100) == 48 and high == 1.0
    assert round(stats.completion_ci(5, 5)[0] * 100) == 51


def test_adjusted_wald_catches_the_z_times_2_slip():
    # A peer writes z*2 for z² in (x + z²/2)/(n + z²). With Tullis's 4 of 5 that puts the upper
    # bound at 0.9772 instead of the published 0.9796; ours must match the published one.
    z = 1.959964
    wrong_p = (4 + z * 2 / 2) / (5 + z * 2)
    wrong_high = wrong_p + z * math.sqrt(wrong_p * (1 - wrong_p) / (5 + z * 2))
    assert abs(wrong_high - 0.9796) > 2e-3
    low, high = stats.completion_ci(4, 5)
    assert abs(low - 0.3596) < 2e-4 and abs(high - 0.9796) < 2e-4


@pytest.mark.parametrize(("x", "n"), [(0, 5), (3, 7), (5, 5), (12, 20), (1, 1)])
@pytest.mark.parametrize("method", ["exact", "wilson"])
def test_exact_and_wilson_match_scipy(x, n, method):
    # No published example at hand for these two; scipy's binomtest is an independent
    # implementation of Clopper–Pearson ("exact") and the Wilson score interval.
    ref = st.binomtest(x, n).proportion_ci(0.95, method=method)
    low, high = stats.completion_ci(x, n, method=method)
    assert low == pytest.approx(ref.low, abs=1e-9)
    assert high == pytest.approx(ref.high, abs=1e-9)


def test_completion_ci_edges_and_errors():
    assert stats.completion_ci(0, 10)[0] == 0.0
    assert stats.completion_ci(10, 10)[1] == 1.0
    with pytest.raises(ValueError, match="n must be at least 1"):
        stats.completion_ci(0, 0)
    with pytest.raises(ValueError, match="between 0 and n"):
        stats.completion_ci(6, 5)
    with pytest.raises(ValueError, match="confidence"):
        stats.completion_ci(3, 5, confidence=1.0)
    with pytest.raises(ValueError, match="unknown method"):
        stats.completion_ci(3, 5, method="wald")


def test_completion_estimate_rules():
    # Lewis & Sauro (2006) / Sauro & Lewis (2016, ch. 3): 5 of 5 -> Laplace 6/7 = 0.857
    assert stats.completion_estimate(5, 5) == pytest.approx(6 / 7)
    # 9 of 10 (p >= 0.9) -> Laplace 10/12
    assert stats.completion_estimate(9, 10) == pytest.approx(10 / 12)
    # 7 of 10 (0.5 < p < 0.9) -> maximum likelihood 0.7
    assert stats.completion_estimate(7, 10) == 0.7
    # 2 of 10 (p <= 0.5) -> Wilson (2 + 1.96²/2)/(10 + 1.96²) = 3.9208/13.8416
    assert stats.completion_estimate(2, 10) == pytest.approx(3.9208 / 13.8416)
    assert stats.completion_estimate(0, 5) > 0


# --- times and means --------------------------------------------------------------------------
def test_geometric_mean_measuringu_example():
    # MeasuringU task-time calculator: 55, 65, 75, 62, 45, 135 -> "Average Time: 68 seconds,
    # 95% CI (46, 101)"
    gm, low, high = stats.geometric_mean_ci([55, 65, 75, 62, 45, 135])
    assert (round(gm), round(low), round(high)) == (68, 46, 101)


def test_geometric_mean_edges():
    gm, low, high = stats.geometric_mean_ci([42.0])
    assert gm == pytest.approx(42.0) and math.isnan(low) and math.isnan(high)
    gm, low, high = stats.geometric_mean_ci([30, 30, 30])
    assert (gm, low, high) == pytest.approx((30, 30, 30))
    with pytest.raises(ValueError, match="positive"):
        stats.geometric_mean_ci([10, -1])
    with pytest.raises(ValueError, match="no times"):
        stats.geometric_mean_ci([])


def test_median_ci_order_statistics():
    # Sauro & Lewis (2016, ch. 3): lower rank np − z√(np(1−p)), p = .5, rounded; the upper
    # rank its mirror n + 1 − r (symmetric in rank). By hand for n = 25:
    # 12.5 − 1.96·√6.25 = 12.5 − 4.9 = 7.6 -> rank 8, and 26 − 8 = 18.
    times = list(range(1, 26))
    median, low, high = stats.median_ci(times)
    assert (median, low, high) == (13, 8, 18)
    assert stats.median_ci([5.0]) == (5.0, 5.0, 5.0)


def test_mean_ci_matches_the_t_interval():
    # Textbook t interval; checked against scipy's t.interval (independent implementation)
    values = [3, 5, 6, 6, 7, 4, 5]
    mean, low, high = stats.mean_ci(values)
    ref = st.t.interval(0.95, len(values) - 1, loc=mean, scale=st.sem(values))
    assert (low, high) == pytest.approx(ref)
    m, lo, hi = stats.mean_ci([4])
    assert m == 4 and math.isnan(lo) and math.isnan(hi)


def test_seq_summary_and_bounds():
    mean, low, high = stats.seq_summary([5, 6, 7, 4, 6])
    assert mean == 5.6 and low < mean < high
    with pytest.raises(ValueError, match="1–7"):
        stats.seq_summary([8])


# --- NPS and UMUX-Lite ------------------------------------------------------------------------
def test_nps_definition():
    # Reichheld (2003): % promoters (9–10) − % detractors (0–6). 5 promoters, 3 passives,
    # 2 detractors of 10 -> 50 − 20 = 30
    assert stats.nps([10, 9, 9, 10, 9, 8, 7, 7, 6, 0]) == pytest.approx(30.0)
    assert stats.nps([10] * 4) == 100 and stats.nps([0, 6]) == -100
    with pytest.raises(ValueError, match="0–10"):
        stats.nps([11])


def test_umux_lite_and_its_sus_equivalent():
    # Lewis, Utesch & Maher (2013): ((i1−1)+(i2−1))/12 × 100; (2015): 0.65 × score + 22.9
    assert stats.umux_lite(7, 7) == 100 and stats.umux_lite(1, 1) == 0
    assert stats.umux_lite(4, 4) == pytest.approx(50.0)
    assert stats.umux_lite_sus(100) == pytest.approx(87.9)
    assert stats.umux_lite_sus(0) == pytest.approx(22.9)
    with pytest.raises(ValueError, match="outside 1–7"):
        stats.umux_lite(8, 1)


# --- comparisons ------------------------------------------------------------------------------
def test_n_minus_1_two_proportion_test_equals_campbell_chi_square():
    # Campbell (2007): N−1 chi-square = Pearson chi-square × (N−1)/N. Pearson chi-square from
    # scipy (independent implementation), for 11/12 vs 5/10.
    table = [[11, 1], [5, 5]]
    chi2 = st.chi2_contingency(table, correction=False)[0] * (22 - 1) / 22
    ref_p = st.chi2.sf(chi2, 1)
    result = stats.two_proportion_test(11, 12, 5, 10)
    assert result.p_value == pytest.approx(ref_p, rel=1e-9)
    assert result.statistic**2 == pytest.approx(chi2)
    assert result.difference == pytest.approx(11 / 12 - 0.5)
    assert result.low < result.difference < result.high


def test_two_proportion_identical_groups():
    assert stats.two_proportion_test(5, 5, 5, 5).p_value == 1.0


def test_welch_t_matches_scipy():
    a = [70, 72.5, 85, 90, 65, 77.5, 80]
    b = [55, 60, 72.5, 67.5, 50, 62.5]
    result = stats.welch_t(a, b)
    ref = st.ttest_ind(a, b, equal_var=False)
    assert result.p_value == pytest.approx(ref.pvalue)
    assert result.statistic == pytest.approx(ref.statistic)
    ci = ref.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((ci.low, ci.high))
    with pytest.raises(ValueError, match="at least two"):
        stats.welch_t([1], [2, 3])


def test_log_time_test_is_welch_on_log_times():
    t1, t2 = [55, 65, 75, 62, 45, 135], [90, 120, 150, 80, 200]
    result = stats.log_time_test(t1, t2)
    ref = st.ttest_ind(
        [math.log(t) for t in t1], [math.log(t) for t in t2], equal_var=False
    )
    assert result.p_value == pytest.approx(ref.pvalue)
    gm1 = stats.geometric_mean_ci(t1)[0]
    gm2 = stats.geometric_mean_ci(t2)[0]
    assert math.exp(result.difference) == pytest.approx(gm1 / gm2)


def test_sus_scores_for_many_participants_at_once():
    import numpy as np

    # silleknarf/SUS README: 4152514231 -> 85; Brooke's extremes 0 and 100
    rows = np.array([[4, 1, 5, 2, 5, 1, 4, 2, 3, 1], [1, 5] * 5, [5, 1] * 5])
    scores, learn, usab = stats.sus_scores(rows)
    assert scores.tolist() == [85.0, 0.0, 100.0]
    for row, score, le, us in zip(rows.tolist(), scores, learn, usab, strict=True):
        assert score == stats.sus_score(row)
        assert (le, us) == stats.sus_subscales(row)
    with pytest.raises(ValueError, match="1–5"):
        stats.sus_scores(np.array([[6] * 10]))
    with pytest.raises(ValueError, match="rows of 10"):
        stats.sus_scores(np.array([[3] * 9]))


def test_array_inputs_are_checked_too():
    import numpy as np

    assert stats.mean_ci(np.array([1.0, 2.0, 3.0]))[0] == 2.0
    with pytest.raises(ValueError, match="numbers"):
        stats.mean_ci(np.array([1.0, float("nan")]))
    with pytest.raises(ValueError, match="positive"):
        stats.geometric_mean_ci(np.array([3.0, -1.0]))
    with pytest.raises(ValueError, match="1–7"):
        stats.seq_summary(np.array([3, 8]))
