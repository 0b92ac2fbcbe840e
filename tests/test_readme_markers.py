"""Every shell block of README.md says how it is tested (see tests/support/readme_blocks.py)."""
import pytest

from tests.support.readme_blocks import MarkerError, parse_marker, round_trip, shell_blocks


def test_every_shell_block_of_the_readme_has_a_marker(repo_root):
    unmarked = [f"README.md:{b.line}: {b.text.splitlines()[0]}"
                for b in shell_blocks(repo_root / "README.md") if not b.kind]
    assert not unmarked, ("shell blocks without a '<!-- readme-test: ... -->' line before "
                          "them (say who runs them and when, or why not):\n" + "\n".join(unmarked))


def test_blocks_run_elsewhere_name_an_existing_test(repo_root):
    for block in shell_blocks(repo_root / "README.md"):
        if block.kind == "elsewhere":
            path = block.note.split("::")[0]
            assert (repo_root / path).is_file(), f"README.md:{block.line}: no test {path}"


def test_the_round_trip_has_every_role(repo_root):
    roles = {b.role for b in round_trip(repo_root / "README.md")}
    assert roles == {"student", "instructor", "ta"}


@pytest.mark.parametrize("spec, expected", [
    ("student 2", ("run", "student", 2.0, "")),
    ("ta 4.5", ("run", "ta", 4.5, "")),
    ("elsewhere tests/test_demo.py", ("elsewhere", "", 0.0, "tests/test_demo.py")),
    ("not run: needs a Dask cluster", ("not run", "", 0.0, "needs a Dask cluster")),
])
def test_markers_are_read(spec, expected):
    assert parse_marker(spec, 1) == expected


@pytest.mark.parametrize("spec", ["student", "teacher 1", "not run:", "student two", ""])
def test_malformed_markers_are_refused(spec):
    with pytest.raises(MarkerError):
        parse_marker(spec, 7)


def test_blocks_and_markers_are_found(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("text\n<!-- readme-test: ta 3 -->\n```bash\nautograder grade a x\n```\n"
                      "```python\nprint(1)\n```\n```bash\nls\n```\n"
                      "<!-- readme-test: student 1 -->\n```sh\npip install x\n```\n")
    blocks = shell_blocks(readme)
    assert [(b.line, b.kind, b.role) for b in blocks] == [(3, "run", "ta"), (9, "", ""),
                                                          (13, "run", "student")]
    assert [b.role for b in round_trip(readme)] == ["student", "ta"]
