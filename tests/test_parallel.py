"""parallel.map_chunks: work spread over forked processes, results in order."""
from __future__ import annotations

from dataclasses import dataclass

from dossier.parallel import map_chunks


@dataclass(frozen=True)
class Thing:
    number: int


THINGS = [Thing(n) for n in range(50)]


def _pair_with_things(shared: list[Thing], chunk: list[int]) -> list[tuple[int, Thing]]:
    return [(item, shared[item % len(shared)]) for item in chunk]


def test_results_come_back_in_order_from_several_processes():
    items = list(range(500))
    assert [item for item, _ in map_chunks(_pair_with_things, items, THINGS, processes=2)] == items


def test_objects_named_in_refs_come_back_as_the_callers_own_objects():
    items = list(range(500))
    copied = map_chunks(_pair_with_things, items, THINGS, processes=2)
    shared = map_chunks(_pair_with_things, items, THINGS, processes=2, refs=THINGS)
    assert [thing for _, thing in copied] == [thing for _, thing in shared]  # the same values…
    assert not any(thing is THINGS[item % 50] for item, thing in copied)   # …copies without refs
    assert all(thing is THINGS[item % 50] for item, thing in shared)       # the very objects with them
