"""Bit operations on uint64 words, for the lazy engine's bitmaps (wake ring and bands), and a prefetch hint.

Compiled, ``popcount`` and ``lowest`` are LLVM's ``ctpop`` and ``cttz`` (one instruction each on x86-64 and
on GPUs); uncompiled (``NUMBA_DISABLE_JIT=1``), Python's own integer methods. ``prefetch`` is LLVM's
``prefetch`` compiled, nothing uncompiled: the sparse pass uses it for the scattered columns of ties.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["popcount", "lowest", "select", "set_bit", "prefetch", "ALL_ONES", "U64_1"]

ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
U64_1 = np.uint64(1)


def popcount(x):
    """Set bits of a uint64. Compiled, this is LLVM's ``ctpop`` (one instruction on x86-64 and on GPUs);
    uncompiled (``NUMBA_DISABLE_JIT=1``), Python's own count."""
    return np.uint64(int(x).bit_count())


def lowest(m):
    """Index of the lowest set bit of a non-zero uint64 (compiled: LLVM's ``cttz``)."""
    m = int(m)
    return np.uint64((m & -m).bit_length() - 1)


@intrinsic
def _ctpop(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen


@intrinsic
def _cttz(typingctx, m):
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))
    return types.uint64(types.uint64), codegen


def prefetch(a, i):
    """Hint that ``a[i]`` will be read soon (compiled: LLVM's ``prefetch``, for reading, into all cache
    levels); uncompiled, nothing. It changes no value: only when the line arrives."""


@intrinsic
def _prefetch(typingctx, a, i):
    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        ptr = cgutils.get_item_pointer(context, builder, aty, context.make_array(aty)(context, builder, args[0]),
                                       [args[1]], wraparound=False)
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p.type, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [i8p, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(a, i), codegen


@overload(prefetch, inline="always")
def _prefetch_jit(a, i):
    return lambda a, i: _prefetch(a, i)


@overload(popcount, inline="always")
def _popcount_jit(x):
    return lambda x: _ctpop(x)


@overload(lowest, inline="always")
def _lowest_jit(m):
    return lambda m: _cttz(m)


@njit(inline="always", nogil=True)
def select(m, k):
    """Index of the k-th (0-based) set bit of m (k < popcount(m)), by halving: six popcounts, each step a
    select rather than a branch (which half holds the bit is a coin toss to the branch predictor)."""
    base = np.int64(0)
    width = 32
    while width > 0:
        low = m & ((U64_1 << np.uint64(width)) - U64_1)
        c = np.int64(popcount(low))
        up = k >= c
        k = k - c if up else k
        base = base + width if up else base
        m = m >> np.uint64(width) if up else low
        width >>= 1
    return base


@njit(inline="always", nogil=True)
def set_bit(words, i):
    words[i >> 6] |= U64_1 << np.uint64(i & 63)
