r"""Assigning units (identities or groups of videos) to the parts of a split.

A video is *kept* in part :math:`p` when all its units are assigned to :math:`p`, else it is
*dropped*. With :math:`c_{p\ell}` kept videos of label :math:`\ell` in part :math:`p`,
:math:`K_\ell = \sum_p c_{p\ell}`, target fractions :math:`f_p` and tolerance :math:`\tau`,
the search minimises

.. math::

    \mathrm{cost} = \#\mathrm{dropped}
      + \lambda \sum_{p,\ell} \max\bigl(0,\ |c_{p\ell} - f_p K_\ell| - \tau K_\ell\bigr)
      + \varepsilon \sum_{p,\ell} |c_{p\ell} - f_p K_\ell|,

i.e. few dropped videos subject to every part holding about :math:`f_p` of the kept videos of
each label (label-stratified), within :math:`\tau`. :math:`\lambda` (``BALANCE_PENALTY``) makes
the fractions nearly hard constraints; :math:`\varepsilon` (``CLOSENESS_WEIGHT``) breaks ties
toward the exact fractions. With one unit per video nothing is dropped and this is a
stratified group split; with identities as units it is the strict identity-disjoint split
(a balanced minimum hypergraph cut, NP-hard in general).

The search is an iterated local search: random starts, single-unit moves and pair swaps, random
perturbations. Each descent runs first with a soft balance penalty (``SOFT_PENALTY``), which lets
whole clusters of identities change sides through unbalanced intermediate states, then with the
full :math:`\lambda`. Videos with the same units and label are interchangeable, so they are
merged into one weighted *item* (a face-swap pair and its many videos cost one step, not many).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tqdm.auto import tqdm

BALANCE_PENALTY = 5.0
SOFT_PENALTY = 0.5
CLOSENESS_WEIGHT = 0.01
DEFAULT_TOLERANCE = 0.03
SWAP_CANDIDATES = 40
RESTARTS = 6
PERTURBATIONS = 10

Incidence = list[list[tuple[int, tuple[int, ...], int, int]]]


@dataclass(frozen=True)
class AssignmentProblem:
    """Units, items (classes of interchangeable videos) and targets of one assignment search.

    - ``item_units[i]``: indices of the units the videos of item ``i`` need (1 for a group,
      1-2 identities for a Celeb-DF video);
    - ``item_labels[i]``: label index of item ``i`` in ``range(n_labels)``;
    - ``item_sizes[i]``: number of videos in item ``i``;
    - ``fractions[p]``: target fraction of part ``p`` (all > 0, summing to 1);
    - ``tolerance``: allowed deviation :math:`\\tau` of each part's fraction of each label.
    """

    item_units: tuple[tuple[int, ...], ...]
    item_labels: tuple[int, ...]
    item_sizes: tuple[int, ...]
    fractions: tuple[float, ...]
    n_units: int
    n_labels: int
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def n_parts(self) -> int:
        return len(self.fractions)

    @property
    def n_videos(self) -> int:
        return sum(self.item_sizes)


def build_problem(
    units_of_video: Mapping[str, Sequence[str]],
    label_of_video: Mapping[str, int],
    fractions: Sequence[float],
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[AssignmentProblem, list[list[str]], list[str]]:
    """An :class:`AssignmentProblem` from named videos and units.

    Parameters
    ----------
    units_of_video : mapping ``video -> units`` it needs (a group name, or its identities)
    label_of_video : mapping ``video -> label`` (any sortable labels, e.g. 1 = real, 0 = fake)
    fractions : target fraction of each part, shape ``(n_parts,)``, all > 0, summing to 1
    tolerance : allowed deviation :math:`\\tau` of a part's fraction of each label

    Returns
    -------
    problem, items, units
        ``items[i]`` lists the videos merged into item ``i`` (in the mapping's order) and
        ``units[u]`` is the name of unit ``u`` (sorted).
    """
    units = sorted({u for v in units_of_video for u in units_of_video[v]})
    unit_index = {u: i for i, u in enumerate(units)}
    labels = sorted({label_of_video[v] for v in units_of_video})
    label_index = {lab: i for i, lab in enumerate(labels)}
    item_of: dict[tuple[tuple[int, ...], int], int] = {}
    items: list[list[str]] = []
    for v, names in units_of_video.items():
        key = (tuple(sorted({unit_index[u] for u in names})), label_index[label_of_video[v]])
        if key not in item_of:
            item_of[key] = len(items)
            items.append([])
        items[item_of[key]].append(v)
    problem = AssignmentProblem(
        item_units=tuple(k[0] for k in item_of),
        item_labels=tuple(k[1] for k in item_of),
        item_sizes=tuple(len(vs) for vs in items),
        fractions=tuple(float(f) for f in fractions),
        n_units=len(units),
        n_labels=len(labels),
        tolerance=float(tolerance),
    )
    return problem, items, units


def kept_part(units: Sequence[int], assignment: Sequence[int]) -> int:
    """The part a video is kept in (all its units there), or -1 when it is dropped."""
    p = assignment[units[0]]
    return p if all(assignment[u] == p for u in units[1:]) else -1


def part_counts(problem: AssignmentProblem, assignment: Sequence[int]) -> list[list[int]]:
    """Kept videos per part and label, ``counts[p][label]``, shape ``(n_parts, n_labels)``."""
    counts = [[0] * problem.n_labels for _ in range(problem.n_parts)]
    for units, lab, size in zip(problem.item_units, problem.item_labels, problem.item_sizes):
        p = kept_part(units, assignment)
        if p >= 0:
            counts[p][lab] += size
    return counts


def cost_of_counts(problem: AssignmentProblem, counts: list[list[int]], penalty: float = BALANCE_PENALTY) -> float:
    r"""The cost of the module docstring from the kept counts.

    Parameters
    ----------
    problem : the search's videos, fractions :math:`f_p` and tolerance :math:`\tau`
    counts : kept videos per part and label, ``counts[p][label]``, shape ``(n_parts, n_labels)``
    penalty : :math:`\lambda`, the weight of deviations beyond the tolerance

    Returns
    -------
    float
        :math:`\#\mathrm{dropped} + \lambda \sum_{p,\ell} \max(0, |c_{p\ell} - f_p K_\ell| - \tau K_\ell)
        + \varepsilon \sum_{p,\ell} |c_{p\ell} - f_p K_\ell|`.
    """
    kept = [sum(counts[p][lab] for p in range(problem.n_parts)) for lab in range(problem.n_labels)]
    cost = float(problem.n_videos - sum(kept))
    for p, f in enumerate(problem.fractions):
        for lab, k in enumerate(kept):
            dev = abs(counts[p][lab] - f * k)
            cost += penalty * max(0.0, dev - problem.tolerance * k) + CLOSENESS_WEIGHT * dev
    return cost


def assignment_cost(problem: AssignmentProblem, assignment: Sequence[int]) -> float:
    """Cost of an assignment (``assignment[unit] = part index``) with the full penalty."""
    return cost_of_counts(problem, part_counts(problem, assignment))


def incidence_of(problem: AssignmentProblem) -> Incidence:
    """For every unit ``u``: ``(item, other units of the item, label, size)`` of the items needing ``u``."""
    incidence: Incidence = [[] for _ in range(problem.n_units)]
    for i, (units, lab, size) in enumerate(zip(problem.item_units, problem.item_labels, problem.item_sizes)):
        for u in units:
            incidence[u].append((i, tuple(w for w in units if w != u), lab, size))
    return incidence


class _SearchState:
    """An assignment with the part each item is kept in and the kept counts, updated by moves."""

    def __init__(self, problem: AssignmentProblem, incidence: Incidence):
        self.problem = problem
        self.incidence = incidence
        self.assignment: list[int] = []
        self.item_part: list[int] = []
        self.counts: list[list[int]] = []
        self.cost = float("inf")
        self.penalty = BALANCE_PENALTY

    def reset(self, assignment: list[int], penalty: float = BALANCE_PENALTY) -> None:
        self.assignment = assignment
        self.penalty = penalty
        self.item_part = [kept_part(units, assignment) for units in self.problem.item_units]
        self.counts = part_counts(self.problem, assignment)
        self.cost = cost_of_counts(self.problem, self.counts, penalty)

    def evaluate(self, moves: dict[int, int]) -> tuple[float, list[list[int]], list[tuple[int, int]]]:
        """``(cost, counts, [(item, new kept part)])`` after ``moves = {unit: new part}``."""
        a, item_part = self.assignment, self.item_part
        counts = [row[:] for row in self.counts]
        changed: list[tuple[int, int]] = []
        seen: set[int] = set()
        for u, q in moves.items():
            for i, others, lab, size in self.incidence[u]:
                if i in seen:
                    continue
                seen.add(i)
                new = q
                for w in others:
                    if moves.get(w, a[w]) != q:
                        new = -1
                        break
                old = item_part[i]
                if old != new:
                    if old >= 0:
                        counts[old][lab] -= size
                    if new >= 0:
                        counts[new][lab] += size
                    changed.append((i, new))
        return cost_of_counts(self.problem, counts, self.penalty), counts, changed

    def try_moves(self, moves: dict[int, int]) -> bool:
        """Apply ``moves`` if they lower the cost; return whether they were applied."""
        cost, counts, changed = self.evaluate(moves)
        if cost < self.cost - 1e-9:
            for u, p in moves.items():
                self.assignment[u] = p
            for i, p in changed:
                self.item_part[i] = p
            self.counts, self.cost = counts, cost
            return True
        return False


def _local_search(state: _SearchState, rng: random.Random) -> None:
    """First-improvement descent: single-unit moves, then sampled pair swaps, until neither helps."""
    n, parts = state.problem.n_units, range(state.problem.n_parts)
    order = list(range(n))
    while True:
        rng.shuffle(order)
        improved = False
        for u in order:
            for q in parts:
                if q != state.assignment[u] and state.try_moves({u: q}):
                    improved = True
                    break
        if improved:
            continue
        for u in order:
            for w in rng.sample(range(n), min(n, SWAP_CANDIDATES)):
                pu, pw = state.assignment[u], state.assignment[w]
                if pu != pw and state.try_moves({u: pw, w: pu}):
                    improved = True
                    break
        if not improved:
            return


def _descend(state: _SearchState, assignment: list[int], rng: random.Random) -> None:
    """Local search from ``assignment`` with the soft penalty, then with the full one."""
    state.reset(assignment, SOFT_PENALTY)
    _local_search(state, rng)
    state.reset(state.assignment, BALANCE_PENALTY)
    _local_search(state, rng)


def search_assignment(
    problem: AssignmentProblem,
    seed: int = 0,
    restarts: int = RESTARTS,
    perturbations: int = PERTURBATIONS,
    progress: bool = False,
) -> list[int]:
    """A low-cost assignment of units to parts by iterated local search.

    ``restarts`` random starts (units drawn into parts with probabilities ``fractions``), each
    improved by a descent and then by ``perturbations`` rounds of "reassign a few random
    units, descend again, keep the result unless it is worse".

    Parameters
    ----------
    problem : the units, items and targets (see :func:`build_problem`)
    seed : seed of the search's random generator; the result is deterministic given it
    restarts, perturbations : search effort (see above)
    progress : show a tqdm bar over the ``restarts * (1 + perturbations)`` descents

    Returns
    -------
    list of int
        ``assignment[unit] = part index``, shape ``(n_units,)``.
    """
    if problem.n_units == 0:
        return []
    rng = random.Random(seed)
    parts = list(range(problem.n_parts))
    state = _SearchState(problem, incidence_of(problem))
    best: list[int] = []
    best_cost = float("inf")
    kick = min(problem.n_units, max(2, problem.n_units // 20))
    bar = tqdm(total=restarts * (1 + perturbations), desc="assigning", unit="descent", disable=not progress)
    for _ in range(restarts):
        _descend(state, rng.choices(parts, weights=problem.fractions, k=problem.n_units), rng)
        bar.update()
        for _ in range(perturbations):
            saved, saved_cost = state.assignment[:], state.cost
            kicked = state.assignment[:]
            for u in rng.sample(range(problem.n_units), kick):
                kicked[u] = rng.choice(parts)
            _descend(state, kicked, rng)
            if state.cost > saved_cost + 1e-9:
                state.reset(saved)
            bar.update()
        if state.cost < best_cost - 1e-9:
            best, best_cost = state.assignment[:], state.cost
    bar.close()
    return best
