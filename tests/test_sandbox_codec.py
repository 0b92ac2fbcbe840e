"""The value protocol: what may cross between grader and student process, and what may not."""
import json

import numpy as np
import pytest

from autograder.sandbox import codec


def round_trip(value, limits=None, make_handle=None):
    """Encode ``value`` as the child would and decode it as the grader would."""
    limits = limits or codec.MessageBounds()
    chunks = codec.encode_message({"status": "ok"}, {"value": value}, limits, make_handle)
    stream = b"".join(bytes(memoryview(chunk).cast("B")) for chunk in chunks)
    position = 0

    def read_exact(size):
        nonlocal position
        data = stream[position:position + size]
        position += size
        return data

    header, buffers = codec.read_frame(read_exact, limits)
    assert position == len(stream), "a frame must be consumed exactly"
    return codec.decode_value(header["value"], buffers, limits,
                              make_proxy=lambda *handle: ("proxy", *handle))


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**70, 1.5, -0.0, "text ü", 3 + 4j,
    [1, [2.5, "x"]], (1, (2,)), {"a": 1, "b": [None]}, [], (), {},
])
def test_builtin_values_round_trip_with_their_types(value):
    result = round_trip(value)
    assert result == value
    assert type(result) is type(value)


def test_nan_and_inf_survive():
    result = round_trip([float("nan"), float("inf"), complex(float("nan"), -float("inf"))])
    assert np.isnan(result[0]) and result[1] == float("inf")
    assert np.isnan(result[2].real) and result[2].imag == -float("inf")


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int64, np.uint16, np.float16,
                                   np.float32, np.float64, np.complex64, np.complex128])
def test_arrays_of_every_allowed_kind_round_trip(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    result = round_trip(array)
    assert type(result) is np.ndarray
    assert result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)
    result[0, 0, 0] = 1  # decoded arrays are ordinary writable arrays


def test_odd_layouts_arrive_as_plain_little_endian_arrays():
    big_endian = np.arange(6, dtype=">f8").reshape(2, 3)
    strided = np.arange(20.0)[::3]
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    for array in (big_endian, strided, fortran, np.zeros((0, 5)), np.array(3.5)):
        result = round_trip(array)
        np.testing.assert_array_equal(result, array)
        assert result.shape == array.shape
        assert result.dtype.byteorder in "=<|"


def test_numpy_scalars_keep_their_dtype():
    for scalar in (np.float32(1.25), np.int16(-3), np.bool_(True), np.complex128(1 - 2j)):
        result = round_trip(scalar)
        assert type(result) is type(scalar) and result == scalar


def test_ndarray_subclass_crosses_as_plain_numbers():
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return True

    crafted = np.zeros(3).view(AlwaysEqual)
    result = round_trip(crafted)
    assert type(result) is np.ndarray
    assert not np.array_equal(result, np.ones(3))


def test_objects_that_may_not_cross_become_handles_only_where_a_table_exists():
    table = []

    def make_handle(value):
        table.append(value)
        return len(table), type(value).__name__, callable(value)

    result = round_trip({"fn": len, "arr": np.array(["a"], dtype=object), "n": 1},
                        make_handle=make_handle)
    assert result["fn"] == ("proxy", 1, "builtin_function_or_method", True)
    assert result["arr"][0:2] == ("proxy", 2)
    assert result["n"] == 1
    with pytest.raises(codec.CodecError, match="object cannot be sent"):
        round_trip(np.array([1, None], dtype=object))
    with pytest.raises(codec.CodecError, match="cannot be sent"):
        round_trip({1: "int keys"})


@pytest.mark.parametrize("dtype_text", ["|O8", "<U3", "<M8[s]", "|V8", "[('a', '<f8')]",
                                        ">f8", "f8", "<f8 ", "<x8"])
def test_decoder_refuses_dtypes_outside_numeric_and_bool(dtype_text):
    with pytest.raises(codec.CodecError):
        codec.decode_value({"a": [0, dtype_text, [1]]}, [bytearray(8)], codec.MessageBounds())


@pytest.mark.parametrize("node", [
    {"x": 1}, {"a": [0, "<f8", [2]]}, {"a": [0, "<f8", [-1]]}, {"a": [5, "<f8", [1]]},
    {"f": "1e5" * 20}, {"f": "__import__('os')"}, {"l": 3}, {"d": [[1, 2]]},
    {"h": [1, "x", True]}, [1, 2], 1.5, {"a": [0, "<f8", [1]], "b": 1},
])
def test_decoder_refuses_malformed_nodes(node):
    with pytest.raises(codec.CodecError):
        codec.decode_value(node, [bytearray(8)], codec.MessageBounds())


def test_oversize_payloads_are_refused_on_both_sides():
    small = codec.MessageBounds(max_bytes=1000)
    with pytest.raises(codec.CodecError, match="transfer limit"):
        round_trip(np.zeros(200), limits=small)
    header = json.dumps({"status": "ok", "buffers": [600, 600]}).encode()
    with pytest.raises(codec.CodecError, match="transfer limit"):
        codec.parse_header(header, small)


def test_nesting_and_element_count_are_bounded():
    deep = []
    for _ in range(50):
        deep = [deep]
    with pytest.raises(codec.CodecError, match="nested"):
        round_trip(deep)
    with pytest.raises(codec.CodecError, match="elements"):
        round_trip(list(range(100)), limits=codec.MessageBounds(max_items=50))
