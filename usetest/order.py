"""Task order: which order of the tasks each participant gets, reproducibly.

Pure functions of the scenario, its content hash and the participant's place in the study; the
recorder stores the order with the session, so an order once given never changes.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Iterable, Sequence

from usetest.scenario import Scenario


def participant_number(code: str) -> int | None:
    """The number in a participant code (``P07`` -> 7), used to pick a Latin-square row."""
    digits = re.findall(r"\d+", code)
    return int(digits[-1]) if digits else None


@functools.lru_cache(maxsize=16)
def williams_square(n: int) -> tuple[tuple[int, ...], ...]:
    """A balanced Latin square (Williams 1949): each task follows every other equally often.

    For an even number of tasks the square has n rows; for an odd number, n rows plus their
    mirror images (2n rows), as balance needs. Row r of the first column pattern is
    0, 1, n-1, 2, n-2, … shifted by r.

    Built once per size and kept (immutable): the set-up screen asks for the order at every
    keystroke in the participant field, and the square has n² cells.
    """
    if n <= 0:
        return ()
    first: list[int] = [0]
    low, high = 1, n - 1
    for i in range(1, n):
        if i % 2 == 1:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    rows = [tuple((x + r) % n for x in first) for r in range(n)]
    if n % 2 == 1:
        rows += [tuple(reversed(row)) for row in rows]
    return tuple(rows)


def square_row(scenario: Scenario, earlier: Iterable[Sequence[str]]) -> int:
    """The Latin-square row (0-based) for the next participant of a condition.

    ``earlier`` are the task orders that condition's sessions got (abandoned ones left out).
    The next participant gets the row used least so far, the first such row on a tie: so the
    k-th participant of a condition gets row k, and the row of a participant who abandoned or
    was withdrawn is given again to the next one, which keeps every condition balanced.
    Orders that match no row (another version of the tasks) are not counted.
    """
    ids = [t.id for t in scenario.tasks]
    rows = [tuple(ids[i] for i in row) for row in williams_square(len(ids))]
    used = dict.fromkeys(rows, 0)
    for order in earlier:
        if tuple(order) in used:
            used[tuple(order)] += 1
    return min(range(len(rows)), key=lambda r: used[rows[r]])


def assign_order(
    scenario: Scenario, scenario_sha256: str, participant: str, ordinal: int,
    row: int | None = None,
) -> list[str]:  # fmt: skip
    """The task order one participant gets, reproducibly.

    - ``fixed``: the scenario's order.
    - ``random``: shuffled with a seed derived from the scenario's content hash and the
      participant code, so the same participant always gets the same order for the same file.
    - ``latin-square``: a row of a balanced Latin square (:func:`williams_square`). In a study
      with conditions, ``row`` (0-based, from :func:`square_row`) so that the square is balanced
      within each condition; without conditions, row k where k is the number in the participant
      code (P01 -> first row) or, for a code without digits, the session's ordinal.
    """
    ids = [t.id for t in scenario.tasks]
    if scenario.task_order == "random":
        seed = hashlib.sha256(f"{scenario_sha256}\0{participant}".encode()).hexdigest()
        rng = random.Random(int(seed[:16], 16))
        rng.shuffle(ids)
        return ids
    if scenario.task_order == "latin-square":
        rows = williams_square(len(ids))
        if row is None:
            number = participant_number(participant) or ordinal
            row = max(number, 1) - 1
        return [ids[i] for i in rows[row % len(rows)]]
    return ids
