"""The standard questionnaires as data: wording, scales and labels, plus the scenario's own.

Used by the session engine (to check answers), the moderator app (to ask them) and analysis
(to score them). The wording is the published one; change it and the published norms (SUS
grades, percentiles) no longer apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from usetest.scenario import Scenario


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
BUILT_IN = ("sus", "umux-lite", "nps")


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
        elif not isinstance(entry, str):
            items = tuple(
                Item(i.id, i.text, "scale", 1, i.points, i.low, i.high)
                if i.type == "likert"
                else Item(i.id, i.text, "text", 0, 0)
                for i in entry.items
            )
            out.append(Questionnaire(entry.id, entry.title, entry.intro or "", items))
    return out
