"""A day's keys, computed for all streams at once, are each stream's own key (``stream_key``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scslab.rng import N_STREAMS, day_keys, stream_key


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), day=st.integers(-1, 2**40 + 5),
       streams=st.lists(st.integers(0, N_STREAMS - 1), min_size=1, max_size=8))
def test_day_keys_are_the_stream_keys(seed, day, streams):
    keys = day_keys(seed, day)
    assert keys.dtype == np.uint64 and keys.shape == (N_STREAMS,)
    for s in streams:
        assert keys[s] == stream_key(seed, s, day)


def test_day_keys_differ_by_day_and_seed():
    assert len({int(k) for k in day_keys(1, 0)}) == N_STREAMS
    assert not np.intersect1d(day_keys(1, 0), day_keys(1, 1)).size
    assert not np.intersect1d(day_keys(1, 0), day_keys(2, 0)).size
