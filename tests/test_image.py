import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.image import as_image, native_float


@pytest.mark.parametrize("dtype,expected", [("float32", np.float32), ("float64", np.float64),
                                            ("int16", np.float32), (">f4", np.float32), (">i4", np.float64),
                                            ("uint16", np.float32)])
def test_dtype_rule(dtype, expected):
    arr = np.arange(12).reshape(3, 4).astype(dtype)
    out = native_float(arr)
    assert out.dtype == expected and out.dtype.isnative
    np.testing.assert_array_equal(out, np.arange(12).reshape(3, 4))
    assert not np.shares_memory(out, arr)


def test_nan_masked_and_input_untouched():
    arr = np.ones((4, 4), dtype=">f4")
    arr[1, 2] = np.nan
    copy = arr.copy()
    img = as_image(arr, mask=np.eye(4, dtype=bool), saturation=10.0)
    assert img.mask[1, 2] and img.mask[0, 0] and img.mask.sum() == 5
    np.testing.assert_array_equal(arr, copy)
    assert img.meta["input_dtype"] == "float32"


def test_saturation_and_variance_masking():
    arr = np.array([[1.0, 5.0], [9.0, 2.0]])
    var = np.array([[1.0, 0.0], [1.0, np.inf]])
    img = as_image(arr, variance=var, saturation=9.0)
    assert img.mask.tolist() == [[False, True], [True, True]]


@pytest.mark.parametrize("bad,message", [
    (np.ones(5), "must be 2-D"),
    (np.ones((2, 3, 4)), "select one plane"),
    (np.ones((0, 4)), "is empty"),
    (np.full((3, 3), np.nan), "no finite pixel"),
    (np.ones((2, 2), complex), "real numbers"),
    (np.array([["a", "b"]]), "real numbers"),
])
def test_bad_inputs_have_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        as_image(bad)


def test_mask_shape_mismatch():
    with pytest.raises(AstrocleanValueError, match="mask has shape"):
        as_image(np.ones((3, 3)), mask=np.zeros((2, 2), bool))
