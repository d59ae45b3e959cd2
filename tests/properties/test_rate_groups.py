"""``detected.rate_groups`` (one sort of every cell's rows) numbers the groups exactly as the obvious way does:
``np.unique`` of each cell's rows, one cell after the other. The lazy engine draws its undetected-act counts
group by group, so a different numbering would change its results."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scslab.engine.detected import rate_groups


def obvious(und_p):
    NC, NS, NB = und_p.shape
    group = np.full((NC, NS), -1, np.int64)
    cells, rates = [], []
    for c in range(NC):
        rows, inverse = np.unique(und_p[c], axis=0, return_inverse=True)
        keep = rows.any(axis=1)
        number = np.cumsum(keep) - 1 + len(rates)
        group[c] = np.where(keep[inverse.ravel()], number[inverse.ravel()], -1)
        cells.extend([c] * int(keep.sum()))
        rates.extend(rows[keep])
    return group, np.array(cells, np.int64), np.array(rates, np.float64).reshape(len(cells), NB)


@settings(max_examples=300, deadline=None)
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 24), st.integers(0, 5)),
       pool=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_rate_groups_number_the_groups_as_unique_per_cell_does(shape, pool, seed):
    """Rows drawn from a small pool (repeats within and across cells, all-zero rows, zero columns)."""
    NC, NS, NB = shape
    rng = np.random.default_rng(seed)
    rows = rng.random((pool, NB)) * (rng.random((1, NB)) < 0.7)
    rows[0] = 0.0
    und_p = rows[rng.integers(0, pool, NC * NS)].reshape(NC, NS, NB)
    for want, got in zip(obvious(und_p), rate_groups(und_p)):
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
