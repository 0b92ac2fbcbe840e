"""The value protocol between the grader and the sandboxed child: JSON plus raw buffers.

This module is loaded by BOTH sides. The child's runner loads it by file path before the
student's folder goes on ``sys.path``, so it imports nothing but the standard library and
NumPy. Nothing here ever unpickles or evaluates anything: decoding only builds ``None``,
``bool``, ``int``, ``float``, ``complex``, ``str``, ``list``, ``tuple``, ``dict`` with
``str`` keys, and NumPy arrays/scalars whose dtype kind is one of ``b i u f c``.

Wire format
-----------
A message is one frame::

    uint32 little-endian  length of the JSON header in bytes
    JSON header           a dict; its key "buffers" lists the byte length of each buffer
    buffer 0, buffer 1, ... raw little-endian array data, back to back

Inside the header a value is encoded as:

========================  ==========================================================
Python value              JSON node
========================  ==========================================================
None, bool, int, str      the JSON literal
float                     ``{"f": repr}`` (so that nan and inf survive)
complex                   ``{"c": [real repr, imag repr]}``
list / tuple              ``{"l": [...]}`` / ``{"t": [...]}``
dict (str keys)           ``{"d": [[key, value], ...]}`` (keeps the order)
ndarray                   ``{"a": [buffer index, dtype str, shape]}``
NumPy scalar              ``{"s": [buffer index, dtype str]}``
object left in the child  ``{"h": [handle id, type name, is callable]}``
========================  ==========================================================

Anything else cannot cross. The child turns such objects into handles (ids into its own
table); the grader turns handles into proxies. A decoder that meets any other node,
a dtype outside ``b i u f c``, a buffer whose size does not match its shape, or more data
than the limits allow raises :class:`CodecError`.
"""
from __future__ import annotations

import json
import math
import re
import struct

import numpy as np

TYPE_CHECKING = False       # not typing.TYPE_CHECKING: the child loads this module, which imports only what it uses
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    MakeHandle = Callable[[Any], tuple[int, str, bool]]
    HandleOf = Callable[[Any], "int | None"]
    MakeProxy = Callable[[int, str, bool], Any]
    Resolve = Callable[[int], Any]

HEADER_PREFIX = struct.Struct("<I")
ALLOWED_DTYPE_KINDS = "biufc"
# "<f8", "|b1", "<c16", ...: byte order, kind, item size. Nothing else is ever parsed.
_DTYPE_PATTERN = re.compile(r"^[<|]([biufc])([0-9]{1,2})$")

MAX_DEPTH = 32
MAX_ITEMS = 200_000
MAX_HEADER_BYTES = 32 * 2**20
MAX_TYPE_NAME = 120


class CodecError(ValueError):
    """A value cannot be encoded, or a frame is malformed or too large."""


class MessageBounds:
    """Bounds on one message.

    Parameters
    ----------
    max_bytes : int
        Largest total size of the array buffers of one message.
    max_depth : int
        Deepest nesting of lists/tuples/dicts.
    max_items : int
        Most JSON nodes in one message (scalars, containers, arrays).
    """

    def __init__(self, max_bytes: float = 512 * 2**20, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS) -> None:
        self.max_bytes = int(max_bytes)
        self.max_depth = int(max_depth)
        self.max_items = int(max_items)


def _wire_dtype(dtype: np.dtype[Any]) -> np.dtype[Any] | None:
    """The little-endian wire dtype of ``dtype``, or None if its kind may not cross."""
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.fields is not None or dtype.subdtype:
        return None
    return dtype.newbyteorder("<")


def parse_dtype(text: Any) -> np.dtype[Any]:
    """The NumPy dtype named by a wire dtype string; raise CodecError for anything else."""
    match = _DTYPE_PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        raise CodecError(f"refusing dtype {str(text)[:40]!r}: only numeric and bool arrays cross")
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise CodecError(f"unknown dtype {text!r}") from exc
    if dtype.kind != match.group(1):
        raise CodecError(f"dtype {text!r} is not what it claims to be")
    return dtype


class Encoder:
    """Turn one value into a JSON-able tree plus a list of buffers.

    Parameters
    ----------
    bounds : MessageBounds
    make_handle : callable or None
        Called with a value that may not cross; returns ``(handle_id, type_name, callable)``.
        The child passes its handle table; the grader passes None (then such a value is an
        error).
    handle_of : callable or None
        Returns the child-side handle id of a proxy, or None if ``value`` is not a proxy
        (the grader's side: proxies are sent as references ``{"h": [id]}``).
    """

    def __init__(self, bounds: MessageBounds, make_handle: MakeHandle | None = None,
                 handle_of: HandleOf | None = None) -> None:
        self.bounds = bounds
        self.make_handle = make_handle
        self.handle_of = handle_of
        self.buffers: list[memoryview] = []
        self.total_bytes = 0
        self.items = 0

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.bounds.max_items:
            raise CodecError(f"the value has more than {self.bounds.max_items} elements; "
                             "use a NumPy array for large data")
        if depth > self.bounds.max_depth:
            raise CodecError(f"the value is nested more than {self.bounds.max_depth} levels deep")
        kind = type(value)
        # Exact types only: a str or int subclass could carry an overridden __eq__.
        if value is None or kind is bool or kind is int or kind is str:
            return value
        if kind is float:
            return {"f": repr(value)}
        if kind is complex:
            return {"c": [repr(value.real), repr(value.imag)]}
        if isinstance(value, np.ndarray):
            return self._array(value)
        if isinstance(value, np.generic):
            encoded = self._scalar(value)
            if encoded is not None:
                return encoded
        if kind is list or kind is tuple:
            items = [self.encode(item, depth + 1) for item in value]
            return {"l": items} if kind is list else {"t": items}
        if kind is dict and all(type(key) is str for key in value):
            return {"d": [[key, self.encode(item, depth + 1)] for key, item in value.items()]}
        if self.handle_of is not None:
            handle = self.handle_of(value)
            if handle is not None:
                return {"h": [handle]}
        return self._handle(value)

    def _add_buffer(self, array: np.ndarray) -> int:
        data = memoryview(array.reshape(-1).view(np.uint8))  # type: ignore[arg-type]  # a buffer from Python 3.12
        self.total_bytes += data.nbytes
        if self.total_bytes > self.bounds.max_bytes:
            raise CodecError(f"the arrays in this value are larger than the "
                             f"{self.bounds.max_bytes // 2**20} MiB transfer limit")
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _array(self, array: np.ndarray) -> Any:
        wire = _wire_dtype(array.dtype)
        if wire is None:
            return self._handle(array)
        # Subclasses (np.matrix, a student's ndarray subclass) lose their class: only the
        # numbers cross, so no overridden __eq__ or __array_ufunc__ reaches the grader.
        plain = array.view(np.ndarray).astype(wire, order="C", copy=False)
        index = self._add_buffer(plain)
        return {"a": [index, plain.dtype.str, list(plain.shape)]}

    def _scalar(self, scalar: np.generic) -> dict[str, list[Any]] | None:
        wire = _wire_dtype(scalar.dtype)
        if wire is None:
            return None
        index = self._add_buffer(np.asarray(scalar, dtype=wire).reshape(1))
        return {"s": [index, wire.str]}

    def _handle(self, value: object) -> dict[str, list[Any]]:
        if self.make_handle is None:
            what = (f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray)
                    else f"a {type(value).__name__}")
            raise CodecError(f"{what} cannot be sent to student code; only numbers, strings, "
                             "numeric/bool arrays and lists/tuples/str-keyed dicts of them")
        handle_id, type_name, is_callable = self.make_handle(value)
        return {"h": [handle_id, type_name[:MAX_TYPE_NAME], bool(is_callable)]}


class Decoder:
    """Turn a JSON tree plus buffers back into a value, validating every node.

    Parameters
    ----------
    buffers : list of bytes-like
    bounds : MessageBounds
    make_proxy : callable or None
        Called as ``make_proxy(handle_id, type_name, is_callable)`` for a handle node (the
        grader's side).
    resolve : callable or None
        Called as ``resolve(handle_id)`` for a reference node ``{"h": [id]}`` (child side).
    """

    def __init__(self, buffers: list[bytearray], bounds: MessageBounds, make_proxy: MakeProxy | None = None,
                 resolve: Resolve | None = None) -> None:
        self.buffers = buffers
        self.bounds = bounds
        self.make_proxy = make_proxy
        self.resolve = resolve
        self.items = 0

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.bounds.max_items or depth > self.bounds.max_depth:
            raise CodecError("message too large or too deeply nested")
        if node is None or type(node) in (bool, int, str):
            return node
        if type(node) is not dict or len(node) != 1:
            raise CodecError(f"malformed value node of type {type(node).__name__}")
        (tag, body), = node.items()
        if tag == "f":
            return self._float(body)
        if tag == "c":
            if type(body) is not list or len(body) != 2:
                raise CodecError("malformed complex")
            return complex(self._float(body[0]), self._float(body[1]))
        if tag in ("l", "t"):
            if type(body) is not list:
                raise CodecError("malformed list")
            items = [self.decode(item, depth + 1) for item in body]
            return items if tag == "l" else tuple(items)
        if tag == "d":
            if type(body) is not list:
                raise CodecError("malformed dict")
            result = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise CodecError("malformed dict entry")
                result[pair[0]] = self.decode(pair[1], depth + 1)
            return result
        if tag == "a":
            return self._array(body)
        if tag == "s":
            if type(body) is not list or len(body) != 2:
                raise CodecError("malformed scalar")
            return self._array([body[0], body[1], [1]])[0]
        if tag == "h":
            return self._handle(body)
        raise CodecError(f"unknown value tag {tag[:20]!r}")

    @staticmethod
    def _float(text: object) -> float:
        if type(text) is not str or len(text) > 40:
            raise CodecError("malformed float")
        try:
            return float(text)
        except ValueError as exc:
            raise CodecError("malformed float") from exc

    def _array(self, body: object) -> np.ndarray:
        if type(body) is not list or len(body) != 3:
            raise CodecError("malformed array")
        index, dtype_text, shape = body
        dtype = parse_dtype(dtype_text)
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise CodecError("array refers to a missing buffer")
        if (type(shape) is not list or len(shape) > 32
                or any(type(n) is not int or n < 0 for n in shape)):
            raise CodecError("malformed array shape")
        buffer = self.buffers[index]
        if math.prod(shape) * dtype.itemsize != len(buffer):
            raise CodecError("array data does not match its shape and dtype")
        # np.frombuffer over a bytearray gives a writable array that owns no Python objects.
        return np.frombuffer(buffer, dtype=dtype).reshape(shape)

    def _handle(self, body: object) -> Any:
        if type(body) is not list or not body or type(body[0]) is not int:
            raise CodecError("malformed handle")
        if len(body) == 1:
            if self.resolve is None:
                raise CodecError("unexpected handle reference")
            return self.resolve(body[0])
        if len(body) != 3 or type(body[1]) is not str or type(body[2]) is not bool:
            raise CodecError("malformed handle")
        if self.make_proxy is None:
            raise CodecError("unexpected handle")
        return self.make_proxy(body[0], body[1][:MAX_TYPE_NAME], body[2])


def encode_message(message: dict[str, Any], values: dict[str, Any], bounds: MessageBounds,
                   make_handle: MakeHandle | None = None, handle_of: HandleOf | None = None) -> list[Any]:
    """Encode a frame.

    Parameters
    ----------
    message : dict
        JSON-able header fields (``op``, ``status``, ...).
    values : dict
        Values to encode into the header under their keys.

    Returns
    -------
    chunks : list of bytes-like
        Write them in order.
    """
    encoder = Encoder(bounds, make_handle, handle_of)
    header = dict(message)
    for key, value in values.items():
        header[key] = encoder.encode(value)
    header["buffers"] = [buffer.nbytes for buffer in encoder.buffers]
    data = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_HEADER_BYTES:
        raise CodecError("the value is too large to send as nested lists; use a NumPy array")
    return [HEADER_PREFIX.pack(len(data)) + data, *encoder.buffers]


def parse_header(data: bytes, bounds: MessageBounds) -> tuple[dict[str, Any], list[int]]:
    """Parse a JSON header; check its buffer list against ``bounds``.

    Returns
    -------
    header : dict
    buffer_sizes : list of int
    """
    try:
        header = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message header ({type(exc).__name__})") from exc
    if type(header) is not dict:
        raise CodecError("malformed message header")
    sizes = header.pop("buffers", None)
    if type(sizes) is not list or any(type(n) is not int or n < 0 for n in sizes):
        raise CodecError("malformed buffer list")
    if sum(sizes) > bounds.max_bytes:
        raise CodecError(f"message larger than the {bounds.max_bytes // 2**20} MiB transfer limit")
    return header, sizes


def decode_value(node: Any, buffers: list[bytearray], bounds: MessageBounds, make_proxy: MakeProxy | None = None,
                 resolve: Resolve | None = None) -> Any:
    """Decode one value node of a parsed header (see :class:`Decoder`)."""
    return Decoder(buffers, bounds, make_proxy, resolve).decode(node)


def read_frame(read_exact: Callable[[int], bytes], bounds: MessageBounds) -> tuple[dict[str, Any], list[bytearray]]:
    """Read one frame with ``read_exact(n) -> bytes`` (blocking; used by the child).

    Returns
    -------
    header : dict
    buffers : list of bytearray
    """
    (length,) = HEADER_PREFIX.unpack(read_exact(HEADER_PREFIX.size))
    if length > MAX_HEADER_BYTES:
        raise CodecError("message header too large")
    header, sizes = parse_header(read_exact(length), bounds)
    return header, [bytearray(read_exact(size)) for size in sizes]
