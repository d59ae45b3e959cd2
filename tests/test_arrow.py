"""scslab.arrow builds the results' Arrow arrays from buffers; they must equal what ``pa.array`` builds."""

import numpy as np
import pyarrow as pa
import pytest

from scslab.arrow import array, numbers, strings


@pytest.mark.parametrize("dtype, type", [(np.int64, pa.int32()), (np.int32, pa.int64()), (np.int16, pa.int16()),
                                         (np.uint8, pa.int64()), (np.float64, pa.float64()), (bool, pa.bool_())])
def test_numbers_equal_pa_array(dtype, type):
    rng = np.random.default_rng(7)
    values = (rng.integers(-1000, 1000, 37) if np.dtype(dtype).kind == "i"
              else rng.integers(0, 200, 37) if np.dtype(dtype).kind == "u"
              else rng.random(37) < 0.5 if dtype is bool else rng.normal(size=37)).astype(dtype)
    valid = rng.random(37) < 0.7
    assert array(values, type).equals(pa.array(values, type))
    assert array(values, type, valid=valid).equals(pa.array(values, type, mask=~valid))
    assert array(values[5:30:2], type).equals(pa.array(values[5:30:2], type))  # a strided view
    assert array(values[:0], type).equals(pa.array(values[:0], type))
    assert array(values, type, valid=valid).null_count == (~valid).sum()


def test_numbers_refuse_what_the_type_cannot_hold():
    with pytest.raises(ValueError, match="from -1 to 2147483648 do not fit Arrow's int32"):
        array(np.array([-1, 2 ** 31], np.int64), pa.int32())
    with pytest.raises(ValueError, match="not of shape"):
        array(np.zeros((2, 2), np.int64), pa.int64())
    with pytest.raises(ValueError, match="no Arrow array of type string"):
        array(np.zeros(2, np.int64), pa.string())
    with pytest.raises(ValueError, match="3 values with 2 flags"):
        array(np.zeros(3, np.int64), pa.int64(), valid=np.ones(2, bool))


def test_strings_equal_pa_array():
    for values in (["all", "region:east", "", "鄂尔多斯", "tier:AAA"], [], [""], ["x"] * 1000):
        got = strings(values)
        assert got.equals(pa.array(values, pa.string())), values
        assert got.to_pylist() == values
    with pytest.raises(TypeError, match="strings only, not None"):
        strings(["a", None])


def test_numbers_read_back_what_to_numpy_gives():
    a = pa.chunked_array([pa.array(np.arange(10), pa.int64()), pa.array(np.arange(5, 0, -1), pa.int64())])
    assert np.array_equal(numbers(a), a.to_numpy())
    sliced = pa.array(np.arange(20, dtype=np.int32))[3:17]  # an array with an offset into its buffer
    assert np.array_equal(numbers(sliced), sliced.to_numpy())
    flags = pa.array(np.arange(20) % 3 == 0)[5:19]
    assert np.array_equal(numbers(flags), flags.to_numpy(zero_copy_only=False))
    assert numbers(pa.chunked_array([], pa.int64())).shape == (0,)
    with pytest.raises(ValueError, match="1 missing values"):
        numbers(pa.array([1, None, 3], pa.int64()))
