"""Which record states each shared fact first, worked out again after records are added
and dropped (:func:`converter.splice.first_flags`), against a plain recount."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from converter.splice import first_flags

record = st.lists(st.integers(0, 30), max_size=6)
"""A record's shared-fact numbers (a small range, so records share facts)."""


def firsts(records: list[list[int]]) -> list[bool]:
    """The first occurrence of every number, record after record: a plain recount."""
    seen: set[int] = set()
    flags = []
    for numbers in records:
        for number in numbers:
            flags.append(number not in seen)
            seen.add(number)
    return flags


@given(st.lists(st.tuples(record, st.booleans()), max_size=12), st.lists(record, max_size=4))
def test_first_flags_after_records_are_dropped_and_added(
    last_run: list[tuple[list[int], bool]], added: list[list[int]]
) -> None:
    """Records of the last run kept in order (the others dropped), new ones after each
    third kept record: the flags equal a recount of the new run."""
    last_flags = firsts([numbers for numbers, _ in last_run])
    records: list[list[int]] = []
    carried: list[bool] = []
    first_before: list[bool] = []
    touched: list[int] = []
    position = 0
    for count, (numbers, kept) in enumerate(last_run):
        flags = last_flags[position : position + len(numbers)]
        position += len(numbers)
        if not kept:
            touched += numbers
            continue
        records.append(numbers)
        carried += [True] * len(numbers)
        first_before += flags
        if count % 3 == 0 and added:
            fresh = added.pop()
            records.append(fresh)
            carried += [False] * len(fresh)
            first_before += [False] * len(fresh)
            touched += fresh
    found = first_flags(
        np.array([number for numbers in records for number in numbers], dtype=np.uint32),
        np.array(carried, dtype=bool),
        np.array(first_before, dtype=bool),
        np.array(touched, dtype=np.uint32),
    )
    assert found.tolist() == firsts(records)
