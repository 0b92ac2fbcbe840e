"""Helpers for the dataset tests: tiny CIFAR-10 copies in the official layout, and a local
HTTP server with Range support whose misbehaviour the tests script.

The batches are written the way the official ones were (by Python 2's cPickle, protocol 2):
byte strings as Python 2 ``str`` (BINSTRING, so ``encoding='latin1'`` loads them as
``str``) and arrays through ``numpy.core.multiarray._reconstruct``. They are assembled
opcode by opcode so that no Python 3 construct (``_codecs.encode``) sneaks in.
"""
import hashlib
import http.server
import io
import pickle
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

TINY_TRAIN_PER_BATCH = 20
TINY_TEST = 30


# --- Python-2-style pickles ------------------------------------------------------------

def _py2_str(data):
    """BINSTRING: how Python 2 pickled a byte string."""
    if isinstance(data, str):
        data = data.encode("latin1")
    return pickle.BINSTRING + struct.pack("<i", len(data)) + data


def _global(module, name):
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _py2_value(value):
    if isinstance(value, (bytes, str)):
        return _py2_str(value)
    if isinstance(value, bool):
        return pickle.NEWTRUE if value else pickle.NEWFALSE
    if isinstance(value, int):
        return pickle.BININT + struct.pack("<i", value)
    if isinstance(value, list):
        return (pickle.EMPTY_LIST + pickle.MARK + b"".join(_py2_value(v) for v in value)
                + pickle.APPENDS)
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        assert array.dtype == np.uint8, "this writer only needs uint8 arrays"
        dtype = (_global("numpy", "dtype") + _py2_str("u1") + pickle.BININT + struct.pack("<i", 0)
                 + pickle.BININT + struct.pack("<i", 1) + pickle.TUPLE3 + pickle.REDUCE
                 + pickle.MARK + pickle.BININT + struct.pack("<i", 3) + _py2_str("|")
                 + pickle.NONE * 3 + (pickle.BININT + struct.pack("<i", -1)) * 2
                 + pickle.BININT + struct.pack("<i", 0) + pickle.TUPLE + pickle.BUILD)
        shape = pickle.MARK + b"".join(pickle.BININT + struct.pack("<i", d)
                                       for d in array.shape) + pickle.TUPLE
        return (_global("numpy.core.multiarray", "_reconstruct") + _global("numpy", "ndarray")
                + pickle.BININT + struct.pack("<i", 0) + pickle.TUPLE1 + _py2_str("b")
                + pickle.TUPLE3 + pickle.REDUCE
                + pickle.MARK + pickle.BININT + struct.pack("<i", 1) + shape + dtype
                + pickle.NEWFALSE + _py2_str(array.tobytes()) + pickle.TUPLE + pickle.BUILD)
    raise TypeError(f"no Python 2 encoding for {type(value).__name__}")


def py2_pickle(mapping):
    """Pickle a dict of str keys the way Python 2's cPickle (protocol 2) did."""
    items = b"".join(_py2_str(k) + _py2_value(v) for k, v in mapping.items())
    return (pickle.PROTO + bytes([2]) + pickle.EMPTY_DICT + pickle.MARK + items
            + pickle.SETITEMS + pickle.STOP)


# --- tiny CIFAR-10 copies --------------------------------------------------------------

def tiny_arrays(seed=0):
    """Random NHWC uint8 images with labels: train (100, 32, 32, 3), test (30, 32, 32, 3)."""
    rng = np.random.default_rng(seed)
    n_train = 5 * TINY_TRAIN_PER_BATCH
    X_train = rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8)
    y_train = rng.permutation(np.arange(n_train) % 10)
    X_test = rng.integers(0, 256, (TINY_TEST, 32, 32, 3), dtype=np.uint8)
    y_test = rng.permutation(np.arange(TINY_TEST) % 10)
    return X_train, y_train, X_test, y_test


def _rows(X):
    """NHWC images -> official CHW rows (N, 3072)."""
    return X.transpose(0, 3, 1, 2).reshape(len(X), -1)


def write_batch(path, X, y, label="batch"):
    Path(path).write_bytes(py2_pickle({
        "batch_label": label, "labels": [int(v) for v in y], "data": _rows(X),
        "filenames": [f"img_{i:05d}.png" for i in range(len(y))]}))


def write_tiny_cifar(root, seed=0):
    """Write ``root/cifar-10-batches-py/`` in the official layout; return the arrays."""
    X_train, y_train, X_test, y_test = arrays = tiny_arrays(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    per = TINY_TRAIN_PER_BATCH
    for b in range(5):
        write_batch(folder / f"data_batch_{b + 1}", X_train[b * per:(b + 1) * per],
                    y_train[b * per:(b + 1) * per], f"training batch {b + 1} of 5")
    write_batch(folder / "test_batch", X_test, y_test, "testing batch 1 of 1")
    (folder / "batches.meta").write_bytes(py2_pickle({
        "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                        "horse", "ship", "truck"],
        "num_cases_per_batch": per, "num_vis": 3072}))
    (folder / "readme.html").write_text("<p>tiny test copy</p>")
    return folder, arrays


def pack_archive(folder, archive, extra_members=()):
    """Pack ``folder`` as ``cifar-10-batches-py/...`` into the .tar.gz ``archive``."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
        for name, data in extra_members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return Path(archive)


@pytest.fixture
def tiny_cifar(tmp_path):
    """(data dir, batches folder, (X_train, y_train, X_test, y_test)) of a tiny copy."""
    root = tmp_path / "data"
    folder, arrays = write_tiny_cifar(root)
    return root, folder, arrays


@pytest.fixture
def tiny_archive(tmp_path):
    """(archive path, its bytes, its md5, the arrays it holds)."""
    folder, arrays = write_tiny_cifar(tmp_path / "src")
    archive = pack_archive(folder, tmp_path / "cifar-10-python.tar.gz")
    data = archive.read_bytes()
    return archive, data, hashlib.md5(data).hexdigest(), arrays


# --- a scriptable HTTP server ------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        requested_range = self.headers.get("Range")
        server.requests.append((self.path, requested_range))
        if server.statuses:
            status = server.statuses.pop(0)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if requested_range and server.honour_range:
            start = int(requested_range.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if server.cut_after:
            # Promise the whole body, send part of it, and hang up: a dropped connection.
            payload = payload[:server.cut_after.pop(0)]
            self.wfile.write(payload)
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


class ScriptedServer(http.server.ThreadingHTTPServer):
    """Serves ``files`` (URL path -> bytes). ``statuses``: status codes to answer the next
    requests with instead; ``cut_after``: byte counts after which the next responses are
    cut off; ``requests``: (path, Range header) of every request; ``honour_range``."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files, self.statuses, self.cut_after, self.requests = {}, [], [], []
        self.honour_range = True

    def url(self, path):
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def http_server():
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
