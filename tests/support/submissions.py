"""Submissions for the grading tests: copies of assignment0 (honest, or with a snippet from
tests/submissions/ appended) and zips of them, well formed or broken byte by byte.
"""
import shutil
import zipfile
from pathlib import Path

ASSIGNMENT = "assignment0"
SNIPPETS = Path(__file__).resolve().parents[1] / "submissions"
CHEAT_MARKER = "# --- cheat ---"


def copy_assignment(course, folder, append=""):
    shutil.copytree(course.source(ASSIGNMENT), folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    if append:
        warmup = folder / "nnfs" / "warmup.py"
        warmup.write_text(warmup.read_text() + append)
    return folder


def zip_folder(folder, archive):
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.rglob("*")):
            handle.write(path, Path(folder.name) / path.relative_to(folder))
    return archive


def make_submission(root, name, course, snippet=None, victim=0):
    """A reference-complete copy of assignment0 at ``root/name/assignment0`` plus ``snippet``."""
    folder = root / name / ASSIGNMENT
    shutil.copytree(course.source(ASSIGNMENT), folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    if snippet is not None:
        warmup = folder / "nnfs" / "warmup.py"
        snippet = snippet.replace("{COURSE_ROOT}", str(course.root))
        warmup.write_text(warmup.read_text() + snippet.replace("{VICTIM}", str(victim)))
    return folder


# -- broken zips ---------------------------------------------------------------------------------
def _members(folder):
    """(name in the zip, bytes) of an assignment folder, under ``assignment0/``."""
    return [(f"{ASSIGNMENT}/{path.relative_to(folder).as_posix()}", path.read_bytes())
            for path in sorted(folder.rglob("*")) if path.is_file()]


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for entry in members:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, b"x = 1\n")
            else:
                archive.writestr(*entry)
    return path


def _with_flags(raw, name, bits, new_name=None):
    """``raw`` (a zip's bytes) with general-purpose flag ``bits`` set on member ``name`` in
    its local and central headers (zipfile clears flags it is given), optionally renamed to
    ``new_name`` of the same length."""
    data = bytearray(raw)
    encoded = name.encode("ascii")
    start = 0
    while (at := data.find(encoded, start)) >= 0:
        for signature, name_offset, flags_offset in ((b"PK\x03\x04", 30, 6),
                                                     (b"PK\x01\x02", 46, 8)):
            header = at - name_offset
            if header >= 0 and data[header:header + 4] == signature:
                flags = int.from_bytes(data[header + flags_offset:header + flags_offset + 2],
                                       "little")
                data[header + flags_offset:header + flags_offset + 2] = \
                    (flags | bits).to_bytes(2, "little")
                if new_name is not None:
                    assert len(new_name) == len(encoded)
                    data[at:at + len(encoded)] = new_name
        start = at + 1
    return bytes(data)
