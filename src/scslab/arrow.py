"""Arrow arrays made from NumPy arrays and Python strings through PyArrow's buffers.

``pa.array`` first asks whether its argument is a pandas object, and to ask, it imports pandas: 0.09-0.11 s of
every ``scslab run`` (docs/performance.md, "Fixed costs"), spent on one core after the engine has finished.
The results' tables are built here instead, from the same values through ``pa.Array.from_buffers``, which
PyArrow documents for exactly this, and come out equal to ``pa.array``'s (tests/test_arrow.py).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["array", "strings", "numbers"]

# the NumPy type of each Arrow type the tables use
_NUMPY = {pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32, pa.int64(): np.int64,
          pa.uint8(): np.uint8, pa.uint16(): np.uint16, pa.uint32(): np.uint32, pa.uint64(): np.uint64,
          pa.float32(): np.float32, pa.float64(): np.float64, pa.bool_(): np.bool_}


def _bits(flags: np.ndarray) -> pa.Buffer:
    """Booleans as Arrow's bitmap: bit i of byte i // 8, least significant first."""
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def array(values, type: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """The 1-d NumPy ``values`` as an Arrow array of ``type`` (one of ``_NUMPY``'s); ``valid``: booleans, False
    where the value is missing (null). Values are converted to ``type`` as ``pa.array`` would, and like it,
    a value that ``type`` cannot hold is refused."""
    if type not in _NUMPY:
        raise ValueError(f"no Arrow array of type {type} from NumPy here; types: {', '.join(map(str, _NUMPY))}")
    x = np.asarray(values)
    if x.ndim != 1:
        raise ValueError(f"an Arrow array is made of 1-d values, not of shape {x.shape}")
    dtype = np.dtype(_NUMPY[type])
    if x.dtype != dtype:
        if x.dtype.kind in "iu" and dtype.kind in "iu" and len(x):
            lo, hi = x.min(), x.max()
            if not (np.can_cast(np.min_scalar_type(lo), dtype) and np.can_cast(np.min_scalar_type(hi), dtype)):
                raise ValueError(f"values from {lo} to {hi} do not fit Arrow's {type}")
        x = x.astype(dtype)
    nulls, null_count = None, 0
    if valid is not None:
        valid = np.asarray(valid, bool)
        if valid.shape != x.shape:
            raise ValueError(f"{len(x):,} values with {valid.size:,} flags of validity")
        nulls, null_count = _bits(valid), int(len(x) - np.count_nonzero(valid))
    data = _bits(x) if dtype == np.bool_ else pa.py_buffer(np.ascontiguousarray(x))
    return pa.Array.from_buffers(type, len(x), [nulls, data], null_count=null_count)


def strings(values) -> pa.Array:
    """Python strings as an Arrow array of ``pa.string()`` (no nulls: anything but a string is refused)."""
    values = list(values)
    wrong = next((v for v in values if not isinstance(v, str)), "")
    if not isinstance(wrong, str):
        raise TypeError(f"an Arrow string array here holds strings only, not {wrong!r}")
    encoded = [v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    if offsets[-1] >= 2 ** 31:
        raise ValueError(f"{offsets[-1]:,} bytes of text do not fit one Arrow string array")
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(encoded))])


def numbers(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric Arrow column without nulls as a NumPy array (a copy), as ``column.to_numpy()`` gives it."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    dtype = np.dtype(_NUMPY[column.type])
    parts = []
    for chunk in chunks:
        if chunk.null_count:
            raise ValueError(f"a column with {chunk.null_count:,} missing values has no NumPy array here")
        data = chunk.buffers()[1]
        if dtype == np.bool_:
            bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
            parts.append(bits[chunk.offset:chunk.offset + len(chunk)].astype(bool))
        else:
            parts.append(np.frombuffer(data, dtype)[chunk.offset:chunk.offset + len(chunk)])
    return np.concatenate(parts) if parts else np.zeros(0, dtype)
