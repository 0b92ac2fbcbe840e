"""The results key and the HMAC tag of stored results (autograder.result_signing)."""
import json
import os
import stat

import pytest

from autograder import result_signing
from autograder.result_signing import KeyUnavailable, load_key, sign_result, verify_result

RESULT = {"submission": "alice", "assignment": "assignment0", "score": 1.5, "max_score": 2.0,
          "tests": [{"name": "t", "score": 1.5, "max_score": 2.0, "status": "failed",
                     "visibility": "visible", "output": "ünïcode \u2713"}]}


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "results.key"
    monkeypatch.setenv(result_signing.KEY_ENV, str(path))
    return path


def test_the_key_is_made_once_private_and_reused(key_file):
    with pytest.raises(KeyUnavailable, match="no results key"):
        load_key()
    key = load_key(create=True)
    assert len(key) == result_signing.KEY_BYTES
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert load_key() == key == load_key(create=True)


def test_a_signed_result_survives_json_and_any_change_breaks_it(key_file):
    key = load_key(create=True)
    signed = sign_result(RESULT, key)
    assert verify_result(signed, key)
    assert verify_result(json.loads(json.dumps(signed, indent=1)), key), "as stored on disk"
    for change in (lambda r: r.update(score=2.0),
                   lambda r: r["tests"][0].update(status="passed"),
                   lambda r: r.update(error=None),
                   lambda r: r.pop("signature")):
        tampered = json.loads(json.dumps(signed))
        change(tampered)
        assert not verify_result(tampered, key)
    assert not verify_result(signed, b"another key of thirty-two bytes!")
    assert not verify_result(dict(signed, signature="hmac-sha256:" + "0" * 64), key)
    assert not verify_result([signed], key) and not verify_result(RESULT, key)


@pytest.mark.parametrize("spoil, words", [
    (lambda path: os.chmod(path, 0o644), "readable by other users"),
    (lambda path: path.write_text("not hex\n"), "damaged"),
])
def test_an_unsafe_or_damaged_key_is_refused(key_file, spoil, words):
    load_key(create=True)
    spoil(key_file)
    with pytest.raises(KeyUnavailable, match=words):
        load_key()


def test_a_key_that_is_a_symlink_is_refused(key_file, tmp_path):
    other = tmp_path / "elsewhere.key"
    other.write_text("ab" * 32 + "\n")
    other.chmod(0o600)
    key_file.parent.mkdir(parents=True)
    key_file.symlink_to(other)
    with pytest.raises(KeyUnavailable, match="symbolic link"):
        load_key(create=True)
