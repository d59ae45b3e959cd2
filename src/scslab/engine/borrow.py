"""Borrowed views: arrays without a reference count, for compiled kernels whose inner loops call other
compiled functions.

Every array numba passes around points to its reference count, and a call that takes arrays (or tuples of
them: the windowed route's tables hold 18) adds one reference per array on the way in and takes it back on
the way out, with atomic instructions. In a loop over millions of agents that costs more than the work:
the senders' guesses (``windowed/penalties.senders_of``, one call of the agent kernel per sender that may be
deterred) ran 2.2 times as fast on borrowed tables (bench-v1, 4 M agents, one thread). A borrowed view is
the same array (data, shape, strides) with no reference count, which numba's reference counting skips, as
it does for the arrays of its own parallel loops.

The rule: a view must not outlive the array it borrows from. Borrow a function's arguments (its caller
keeps them alive for the call), never an array the function allocates itself (numba frees that after its
last use, which would be the borrowing, and the view would point into freed memory).
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

__all__ = ["borrowed"]


def _view(context, builder, typ, value):
    """The borrowed view of ``value`` (of numba type ``typ``): arrays lose their reference count, tuples are
    borrowed item by item, anything else is itself."""
    if isinstance(typ, types.Array):
        src = context.make_array(typ)(context, builder, value=value)
        dst = context.make_array(typ)(context, builder)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(dst, field, getattr(src, field))
        dst.meminfo = cgutils.get_null_value(dst.meminfo.type)  # no reference count
        dst.parent = cgutils.get_null_value(dst.parent.type)    # no Python object behind it
        return dst._getvalue()
    if isinstance(typ, types.BaseTuple):
        out = value
        for k, t in enumerate(typ.types):
            out = builder.insert_value(out, _view(context, builder, t, builder.extract_value(value, k)), k)
        return out
    return value


@intrinsic
def _borrowed(typingctx, x):
    def codegen(context, builder, signature, args):
        return _view(context, builder, signature.args[0], args[0])
    return x(x), codegen


def _itself(x):
    return x


# ``x`` (an array, or a tuple of arrays and other values, nested or named) as borrowed views; see the module's
# rule on what may be borrowed. In plain Python (``NUMBA_DISABLE_JIT=1``) there is no reference count to
# skip: ``x`` itself.
borrowed = _itself if config.DISABLE_JIT else _borrowed
