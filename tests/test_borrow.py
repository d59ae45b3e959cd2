"""Borrowed views (engine/borrow.py): the same data, shape and strides, writes reach the owner, and tuples
(named, nested, with other values) keep every item."""

from typing import NamedTuple

import numpy as np
from numba import njit

from scslab.engine.borrow import borrowed


class Pair(NamedTuple):
    a: np.ndarray
    k: int
    rows: tuple


@njit
def _write_through(x, v):
    y = borrowed(x)
    y[1, 2] = v
    return y.shape[0], y.shape[1], y.strides[0], y.sum()


@njit
def _named(p):
    q = borrowed(p)
    q.a[0] += 1
    return q.k + q.rows[1][0] + q.a.shape[0], q.a[0]


@njit
def _sliced(x):
    return borrowed(x)[::3].sum()


def test_a_borrowed_array_is_the_array():
    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    n0, n1, stride, total = _write_through(x, 100)
    assert (n0, n1, stride) == (3, 4, 32)
    assert x[1, 2] == 100 and total == x.sum()


def test_a_borrowed_tuple_keeps_every_item():
    p = Pair(a=np.array([5, 6, 7]), k=10, rows=((1, 2), (30, 4)))
    assert _named(p) == (10 + 30 + 3, 6)
    assert p.a[0] == 6


def test_a_strided_view_borrows_its_strides():
    x = np.arange(10.0)
    assert _sliced(x[1:]) == x[1::3].sum()
