"""Solution stripping of .py files (autograder.release.stripping)."""
import textwrap

import pytest

from autograder.release.stripping import (MarkerError, find_solution_blocks, public_lines,
                                  solution_lines, strip_file, strip_solutions, strip_tree)

MODULE = textwrap.dedent('''\
    import numpy as np


    def relu(x):
        """Elementwise max(0, x)."""
        ### BEGIN SOLUTION
        out = np.maximum(x, 0)
        ### END SOLUTION
        return out


    class Model:
        def loss(self, x):
            if x is None:
                ### BEGIN SOLUTION
                return 0.0
                ### END SOLUTION
            ### BEGIN SOLUTION
            total = float(np.sum(x))
            ### END SOLUTION
            return total
''')


def test_blocks_become_stubs_at_the_begin_marker_indentation():
    stripped = strip_solutions(MODULE)
    assert "np.maximum" not in stripped and "np.sum" not in stripped
    assert "return 0.0" not in stripped
    assert "BEGIN SOLUTION" not in stripped and "END SOLUTION" not in stripped
    lines = stripped.splitlines()
    stubs = [i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE"]
    assert len(stubs) == 3
    indents = [len(lines[i]) - len(lines[i].lstrip()) for i in stubs]
    assert indents == [4, 12, 8]
    for i in stubs:
        assert lines[i + 1] == lines[i].replace("# YOUR CODE HERE", "raise NotImplementedError")
    compile(stripped, "<stripped>", "exec")


def test_stubbed_code_raises_not_implemented():
    namespace = {}
    exec(compile(strip_solutions(MODULE), "<stripped>", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["relu"](1.0)


def test_code_outside_blocks_is_kept_verbatim():
    stripped = strip_solutions(MODULE)
    for line in public_lines(MODULE):
        assert line in stripped.splitlines()


def test_solution_and_public_lines_partition_the_text():
    inside = solution_lines(MODULE)
    assert [line.strip() for line in inside] == ["out = np.maximum(x, 0)", "return 0.0",
                                                 "total = float(np.sum(x))"]
    outside = public_lines(MODULE)
    assert len(inside) + len(outside) + 6 == len(MODULE.splitlines())  # + 3 pairs of markers


def test_windows_line_endings_are_kept():
    text = MODULE.replace("\n", "\r\n")
    stripped = strip_solutions(text)
    assert "\r\n" in stripped and "\n" not in stripped.replace("\r\n", "")
    assert "np.maximum" not in stripped


def test_text_without_markers_is_unchanged():
    text = "def f():\n    return 1\n"
    assert strip_solutions(text) == text


@pytest.mark.parametrize("text, line, words", [
    ("a = 1\n### BEGIN SOLUTION\nb = 2\n", 2, "never closed"),
    ("a = 1\n### END SOLUTION\n", 2, "without a"),
    ("### BEGIN SOLUTION\nx = 1\n    ### BEGIN SOLUTION\n### END SOLUTION\n", 3, "inside the block"),
])
def test_unbalanced_markers_name_file_and_line(text, line, words):
    with pytest.raises(MarkerError, match=rf"nnfs/layers\.py:{line}: .*{words}"):
        find_solution_blocks(text.splitlines(), "nnfs/layers.py")


def test_strip_file_refuses_a_block_that_leaves_broken_python(tmp_path):
    path = tmp_path / "bad.py"
    original = "x = [\n### BEGIN SOLUTION\n1, 2,\n### END SOLUTION\n]\n"
    path.write_text(original)
    with pytest.raises(MarkerError, match="bad.py:.*whole statements"):
        strip_file(path)
    assert path.read_text() == original


def test_strip_tree_rewrites_only_files_with_blocks(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(MODULE)
    (tmp_path / "pkg" / "plain.py").write_text("X = 1\n")
    (tmp_path / "notes.txt").write_text("### BEGIN SOLUTION\nnot python\n")
    changed = strip_tree(tmp_path)
    assert [p.as_posix() for p in changed] == ["pkg/model.py"]
    assert (tmp_path / "pkg" / "plain.py").read_text() == "X = 1\n"
    assert "np.maximum" not in (tmp_path / "pkg" / "model.py").read_text()
