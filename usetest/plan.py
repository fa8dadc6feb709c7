"""Study planning behind ``usetest plan``: how many participants a study needs.

Three questions, each answered by a function of :mod:`usetest.stats` (formulas and sources
there, and in docs/planning.md): participants for a margin of error (:func:`margin`), to see
the problems of a given frequency (:func:`discovery`, or :func:`discovery_from_db` with the
rate estimated from a study's own problems), and to detect a difference between two conditions
(:func:`compare`). Each returns a :class:`Plan`, rendered by the CLI as a table or JSON.

Pure except :func:`discovery_from_db`, which reads a database through :mod:`usetest.analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usetest import stats
from usetest.errors import UsetestError

SAURO_LEWIS = "Sauro & Lewis (2016), Quantifying the User Experience, 2nd ed."
SHORT = "Sauro & Lewis (2016)"  # in the 80-column table; JSON names the book
METRICS = ("completion", "rating", "time")


class PlanError(UsetestError):
    """A planning question that cannot be answered as asked (a wrong or missing option); the
    message says what to give. Exit 2, like click's own usage errors."""

    exit_code = 2


class PlanDataError(PlanError):
    """The study database cannot answer the question (no sessions, no problems)."""

    exit_code = 1


@dataclass(frozen=True)
class Plan:
    """One planning answer: ``n`` (per condition for a comparison), what it was computed from,
    the formula and its source, and the lines of its table."""

    question: str
    n: int
    inputs: dict[str, Any]
    formula: str
    source: str
    rows: list[tuple[str, str]]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "n": self.n, **self.extra, "inputs": self.inputs,
                "formula": self.formula, "source": self.source}  # fmt: skip

    def table(self) -> list[str]:
        width = max(len(label) for label, _ in self.rows)
        return [self.question] + [f"  {label:<{width}}  {value}" for label, value in self.rows]


def _pct(x: float) -> str:
    text = f"{100 * x:.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


def _num(x: float) -> str:
    return f"{x:g}"


def _stats(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A stats function whose ValueError (bad input) becomes a message, not a crash."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        raise PlanError(str(exc)) from exc


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise PlanError(f"unknown metric {metric!r}: use completion, rating or time")


def _share_of_completion(value: float, option: str) -> None:
    if not 0 < value < 1:
        raise PlanError(f"{option} {_num(value)}: a completion rate and its margin are "
                        f"shares between 0 and 1 — e.g. {option} 0.1 for 10 percentage "
                        "points")  # fmt: skip


def _units(metric: str) -> str:
    return " s" if metric == "time" else ""


def margin(metric: str, margin: float, *, p: float | None = None, sd: float | None = None,
           confidence: float = 0.95) -> Plan:  # fmt: skip
    """Participants for a confidence interval of ± ``margin``: a completion rate (adjusted-Wald,
    expected rate ``p``, 0.5 when not known) or a mean rating or time (t, standard deviation
    ``sd``)."""
    _check_metric(metric)
    if metric == "completion":
        if sd is not None:
            raise PlanError("--sd is for --metric rating or time; a completion rate's spread "
                            "follows from its expected rate: give --p instead")  # fmt: skip
        _share_of_completion(margin, "--margin")
        rate = 0.5 if p is None else p
        if not 0 <= rate <= 1:
            raise PlanError(f"--p {_num(rate)}: the expected completion rate is a share 0–1 "
                            "(0.78 for 78 %)")  # fmt: skip
        n = _stats(stats.sample_size_margin_completion, margin, rate, confidence)
        return Plan(
            question="Participants for a margin of error on a completion rate",
            n=n,
            inputs={"metric": metric, "margin": margin, "p": rate, "confidence": confidence},
            formula="n = z²·p(1−p)/d² − z², rounded up (adjusted-Wald)",
            source=f"{SAURO_LEWIS}, ch. 6",
            rows=[("margin of error",
                   f"±{_num(margin)} (±{_num(100 * margin)} percentage points)"),
                  ("expected rate p", _num(rate) + (" (the default: needs the most participants)"
                                if p is None else "")),
                  ("confidence", _pct(confidence)),
                  ("participants needed", str(n)),
                  ("formula", "n = z²·p(1−p)/d² − z² (adjusted-Wald)"),
                  ("source", f"{SHORT}, ch. 6")],
        )  # fmt: skip
    if p is not None:
        raise PlanError(f"--p is for --metric completion; for --metric {metric} give --sd")
    if sd is None:
        raise PlanError(f"--metric {metric} needs --sd, the standard deviation you expect "
                        "(from an earlier study or a pilot), in the margin's units")  # fmt: skip
    if margin <= 0 or sd <= 0:
        raise PlanError("--margin and --sd must be positive numbers")
    n = _stats(stats.sample_size_margin_mean, sd, margin, confidence)
    unit = _units(metric)
    return Plan(
        question=f"Participants for a margin of error on a mean {metric}",
        n=n,
        inputs={"metric": metric, "margin": margin, "sd": sd, "confidence": confidence},
        formula="n = t²·s²/d², t on n − 1 df, iterated until n is stable",
        source=f"{SAURO_LEWIS}, ch. 6",
        rows=[("margin of error", f"±{_num(margin)}{unit}"),
              ("standard deviation", f"{_num(sd)}{unit}"),
              ("confidence", _pct(confidence)),
              ("participants needed", str(n)),
              ("formula", "n = t²·s²/d², t on n − 1 df, iterated"),
              ("source", f"{SHORT}, ch. 6")],
    )  # fmt: skip


def _goal(goal: float) -> None:
    if not 0 < goal < 1:
        raise PlanError(f"--goal {_num(goal)}: the goal is a probability between 0 and 1 — "
                        "e.g. --goal 0.85 to see each problem with 85 % probability")  # fmt: skip


def discovery(p: float, goal: float) -> Plan:
    """Participants to see, with probability ``goal``, a problem met by a share ``p`` of users."""
    _goal(goal)
    if not 0 < p <= 1:
        raise PlanError(f"--p {_num(p)}: the problem's probability is above 0 and at most 1 — "
                        "e.g. --p 0.31 for a problem that 31 % of users meet")  # fmt: skip
    n = _stats(stats.discovery_n, p, goal)
    found = stats.discovery_share(p, n)
    return Plan(
        question="Participants to discover a problem",
        n=n,
        extra={"share_found": found},
        inputs={"p": p, "goal": goal},
        formula="smallest n with 1 − (1 − p)^n ≥ goal",
        source=f"{SAURO_LEWIS}, ch. 7",
        rows=[("problem probability p", _num(p)),
              ("goal", _pct(goal)),
              ("participants needed", str(n)),
              ("chance to see it", f"{_pct(found)} with {n}: 1 − (1 − p)^n"),
              ("source", f"{SHORT}, ch. 7")],
    )  # fmt: skip


def discovery_from_db(db: str | Path, goal: float, **filters: Any) -> Plan:
    """The discovery plan from a study's own problems: p estimated from its problem ×
    participant matrix with the small-sample adjustment (Lewis 2001), how much of the problems
    of that probability the participants so far have found, and how many more reach ``goal``.

    Problems are grouped by identical wording, as in the summary; ``filters`` are those of
    :func:`usetest.analysis.summarise` (completed sessions by default).
    """
    _goal(goal)
    from usetest import analysis

    summary = analysis.summarise(db, **filters)
    tested = len(summary.sessions)
    if tested == 0:
        raise PlanDataError(f"{db} has no sessions to estimate from (completed ones are "
                            "counted; --include-unfinished counts the others) — or give "
                            "--p")  # fmt: skip
    problems = summary.problems
    if problems.empty:
        raise PlanDataError(f"no problems are recorded in {db}, so the discovery rate cannot "
                            "be estimated — log problems as notes of kind problem, or give "
                            "--p")  # fmt: skip
    # Rows of the problem × participant matrix: only each problem's count of participants
    # enters the estimate (p_est, N, N1), so the matrix is rebuilt from the counts.
    matrix = [[1] * int(k) + [0] * (tested - int(k)) for k in problems["participants"]]
    est = _stats(stats.discovery_estimate, matrix)
    p = est.p_adjusted
    found = stats.discovery_share(p, tested)
    n = _stats(stats.discovery_n, p, goal)
    more = max(0, n - tested)
    reached = "reached" if more == 0 else f"{more} more participant(s)"
    return Plan(
        question=f"Problem discovery in {db}",
        n=n,
        extra={"participants": tested, "more": more, "problems": est.problems,
               "problems_once": est.once, "p_unadjusted": est.p_est, "p_adjusted": p,
               "share_found": found},
        inputs={"db": str(db), "goal": goal},
        formula=("p_adj = ½(p_est − 1/n)(1 − 1/n) + ½·p_est/(1 + N1/N); "
                 "share found = 1 − (1 − p_adj)^n; "
                 "smallest n with 1 − (1 − p_adj)^n ≥ goal"),
        source=("Lewis (2001), IJHCI 13(4), 445–479; " f"{SAURO_LEWIS}, ch. 7"),
        rows=[("participants so far", str(tested)),
              ("problems found", f"{est.problems} ({est.once} met by one participant only)"),
              ("p, unadjusted", f"{est.p_est:.3f}"),
              ("p, small-sample adjusted", f"{p:.3f} (Lewis 2001)"),
              ("share found so far", f"{_pct(found)} of problems with p = {p:.2f}"),
              ("goal", _pct(goal)),
              ("participants for the goal", f"{n}: {reached}"),
              ("source", f"Lewis (2001); {SHORT}, ch. 7")],
    )  # fmt: skip


def compare(metric: str, *, p1: float | None = None, p2: float | None = None,
            sd: float | None = None, difference: float | None = None, power: float = 0.8,
            confidence: float = 0.95) -> Plan:  # fmt: skip
    """Participants per condition to detect a difference between two conditions (between
    subjects): completion rates ``p1`` vs ``p2``, or means (rating, time) ``difference`` apart
    with standard deviation ``sd``."""
    _check_metric(metric)
    if not 0 < power < 1:
        raise PlanError(f"--power {_num(power)}: power is a probability between 0 and 1 "
                        "(0.8 is usual)")  # fmt: skip
    if metric == "completion":
        if sd is not None or difference is not None:
            raise PlanError("--sd and --difference are for --metric rating or time; for "
                            "completion give --p1 and --p2")  # fmt: skip
        if p1 is None or p2 is None:
            raise PlanError("--metric completion needs --p1 and --p2, the completion rates "
                            "you expect in the two conditions (e.g. --p1 0.7 --p2 "
                            "0.9)")  # fmt: skip
        for option, value in (("--p1", p1), ("--p2", p2)):
            if not 0 <= value <= 1:
                raise PlanError(f"{option} {_num(value)}: a completion rate is a share 0–1 "
                                "(0.78 for 78 %)")  # fmt: skip
        if p1 == p2:
            raise PlanError("--p1 and --p2 are equal: there is no difference to detect")
        n = _stats(stats.sample_size_compare_proportions, p1, p2, power, confidence)
        inputs: dict[str, Any] = {"metric": metric, "p1": p1, "p2": p2}
        formula = ("n = 2(z_α/2 + z_β)²·p̄(1−p̄)/d² + ½ per condition "
                   "(N−1 two-proportion test)")
        what = [("completion rates", f"{_num(p1)} vs {_num(p2)}")]
    else:
        if p1 is not None or p2 is not None:
            raise PlanError(f"--p1 and --p2 are for --metric completion; for --metric {metric} "
                            "give --sd and --difference")  # fmt: skip
        if sd is None or difference is None:
            raise PlanError(f"--metric {metric} needs --sd (the standard deviation you expect) "
                            "and --difference (the smallest difference worth detecting), in "
                            "the same units")  # fmt: skip
        if sd <= 0 or difference == 0:
            raise PlanError("--sd must be positive and --difference not zero")
        n = _stats(stats.sample_size_compare_means, sd, difference, power, confidence)
        inputs = {"metric": metric, "sd": sd, "difference": difference}
        formula = "n = 2s²(t_α/2 + t_β)²/d² per condition, t on 2(n − 1) df, iterated"
        unit = _units(metric)
        what = [("difference", f"{_num(abs(difference))}{unit}"),
                ("standard deviation", f"{_num(sd)}{unit}")]  # fmt: skip
    inputs.update(power=power, confidence=confidence)
    return Plan(
        question=f"Participants to compare two conditions on {metric}",
        n=n,
        extra={"total": 2 * n},
        inputs=inputs,
        formula=formula,
        source=f"{SAURO_LEWIS}, ch. 6",
        rows=[*what,
              ("power", _pct(power)),
              ("confidence", f"{_pct(confidence)} (two-sided)"),
              ("participants per condition", str(n)),
              ("participants in all", str(2 * n)),
              ("source", f"{SHORT}, ch. 6")],
    )  # fmt: skip
