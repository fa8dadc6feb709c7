"""The standard questionnaires as data: wording, scales and labels, plus the scenario's own.

Used by the session engine (to check answers), the moderator app (to ask them) and analysis
(to score them). The wording is the published one; change it and the published norms (SUS
grades, percentiles) no longer apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from usetest.scenario import CustomQuestionnaire, Scenario


@dataclass(frozen=True)
class Item:
    """One question: a rating scale from ``min`` to ``max``, or free text."""

    id: str
    text: str
    kind: Literal["scale", "text"]
    min: int = 1
    max: int = 5
    low: str = ""
    high: str = ""


@dataclass(frozen=True)
class Questionnaire:
    id: str
    title: str
    intro: str
    items: tuple[Item, ...]


_SUS_TEXTS = (
    "I think that I would like to use this system frequently.",
    "I found the system unnecessarily complex.",
    "I thought the system was easy to use.",
    "I think that I would need the support of a technical person to be able to use this system.",
    "I found the various functions in this system were well integrated.",
    "I thought there was too much inconsistency in this system.",
    "I would imagine that most people would learn to use this system very quickly.",
    "I found the system very cumbersome to use.",
    "I felt very confident using the system.",
    "I needed to learn a lot of things before I could get going with this system.",
)

SUS = Questionnaire(
    id="sus",
    title="System Usability Scale",
    intro="Please rate how much you agree with each statement about the system you just used.",
    items=tuple(
        Item(f"sus{i}", text, "scale", 1, 5, "Strongly disagree", "Strongly agree")
        for i, text in enumerate(_SUS_TEXTS, start=1)
    ),
)
"""Brooke, J. (1996). SUS: a "quick and dirty" usability scale. In Jordan et al. (eds.),
Usability Evaluation in Industry, 189–194. Ten items, 1 = strongly disagree … 5 = strongly agree."""

UMUX_LITE = Questionnaire(
    id="umux-lite",
    title="UMUX-Lite",
    intro="Please rate how much you agree with each statement about the system you just used.",
    items=(
        Item("umux1", "This system's capabilities meet my requirements.", "scale", 1, 7,
             "Strongly disagree", "Strongly agree"),
        Item("umux2", "This system is easy to use.", "scale", 1, 7,
             "Strongly disagree", "Strongly agree"),
    ),
)  # fmt: skip
"""Lewis, Utesch & Maher (2013). UMUX-LITE: when there's no time for the SUS. CHI 2013, 2099–2102.
The two positive items of the UMUX (Finstad 2010), 7-point agreement scale."""

SEQ = Questionnaire(
    id="seq",
    title="Single Ease Question",
    intro="",
    items=(
        Item("seq", "Overall, how difficult or easy was the task to complete?", "scale", 1, 7,
             "Very difficult", "Very easy"),
    ),
)  # fmt: skip
"""Sauro & Dumas (2009). Comparison of three one-question, post-task usability questionnaires.
CHI 2009, 1599–1608. One 7-point item asked after each task."""

_NPS_TEXT = "How likely is it that you would recommend {product} to a friend or colleague?"


def nps_questionnaire(product: str | None = None) -> Questionnaire:
    """The Net Promoter question (Reichheld 2003, HBR 81(12)), 0 = not at all likely … 10."""
    return Questionnaire(
        id="nps",
        title="Likelihood to recommend",
        intro="",
        items=(
            Item("nps", _NPS_TEXT.format(product=product or "this product"), "scale", 0, 10,
                 "Not at all likely", "Extremely likely"),
        ),
    )  # fmt: skip


NPS = nps_questionnaire()

_CSAT_TEXT = "Overall, how satisfied are you with {product}?"
_CES_TEXT = "{product} made it easy for me to {what}."


def csat_questionnaire(product: str | None = None) -> Questionnaire:
    """Customer satisfaction (CSAT): one 5-point item, 1 = very unsatisfied … 5 = very
    satisfied; scored as the share answering 4 or 5 (top-two-box) and the mean."""
    return Questionnaire(
        id="csat", title="Customer satisfaction", intro="",
        items=(Item("csat", _CSAT_TEXT.format(product=product or "this product"), "scale", 1, 5,
                    "Very unsatisfied", "Very satisfied"),),
    )  # fmt: skip


def ces_questionnaire(product: str | None = None, *, after_task: bool = False) -> Questionnaire:
    """Customer Effort Score, CES 2.0 (Dixon, Toman & DeLisi 2013, *The Effortless
    Experience*): one 7-point agreement item, 1 = strongly disagree … 7 = strongly agree;
    scored as the mean and the share agreeing (5–7)."""
    what = "complete this task" if after_task else "do what I wanted to do"
    subject = product or "This product"
    return Questionnaire(
        id="ces", title="Customer effort", intro="",
        items=(Item("ces", _CES_TEXT.format(product=subject[:1].upper() + subject[1:], what=what),
                    "scale", 1, 7, "Strongly disagree", "Strongly agree"),),
    )  # fmt: skip


BUILT_IN = ("sus", "umux-lite", "nps", "csat", "ces")
AFTER_TASK_BUILT_IN = ("csat", "ces")
"""The built-ins a task may list in ``after:`` (the SUS, UMUX-Lite and NPS rate the whole
system, so they are asked once, after the tasks)."""


def questionnaires_for(scenario: Scenario) -> list[Questionnaire]:
    """The scenario's end-of-session questionnaires, in its order, as :class:`Questionnaire`."""
    out: list[Questionnaire] = []
    for entry in scenario.questionnaires:
        if entry == "sus":
            out.append(SUS)
        elif entry == "umux-lite":
            out.append(UMUX_LITE)
        elif entry == "nps":
            out.append(nps_questionnaire(scenario.product))
        elif entry == "csat":
            out.append(csat_questionnaire(scenario.product))
        elif entry == "ces":
            out.append(ces_questionnaire(scenario.product))
        elif not isinstance(entry, str) and entry.at_end:
            out.append(_custom(entry))
    return out


def _custom(entry: CustomQuestionnaire) -> Questionnaire:
    items = tuple(
        Item(i.id, i.text, "scale", 1, i.points, i.low, i.high)
        if i.type == "likert"
        else Item(i.id, i.text, "text", 0, 0)
        for i in entry.items
    )
    return Questionnaire(entry.id, entry.title, entry.intro or "", items)


def after_task_questionnaires(scenario: Scenario, task_id: str) -> list[Questionnaire]:
    """What is asked after task ``task_id`` besides its SEQ (its ``after:`` list), in order.

    The CES is worded for the task ("… made it easy for me to complete this task."); the CSAT
    and custom blocks read as at the end of the session. Answers are stored per task.
    """
    blocks = {q.id: q for q in scenario.questionnaires if not isinstance(q, str)}
    out: list[Questionnaire] = []
    for name in scenario.task(task_id).after:
        if name == "csat":
            out.append(csat_questionnaire(scenario.product))
        elif name == "ces":
            out.append(ces_questionnaire(scenario.product, after_task=True))
        elif name in blocks:  # a validated scenario names nothing else
            out.append(_custom(blocks[name]))
    return out
