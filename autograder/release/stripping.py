"""Solution markers in ``.py`` files: find the marked blocks and replace them by stubs.

nbgrader clears solutions in notebooks but copies every other file into the release
verbatim (nbgrader issue #1237), so ``autograder release`` runs :func:`strip_tree` over the
release. A block

.. code-block:: python

        ### BEGIN SOLUTION
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        ### END SOLUTION

becomes, at the indentation of its ``### BEGIN SOLUTION`` line,

.. code-block:: python

        # YOUR CODE HERE
        raise NotImplementedError
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import UserError

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")


class MarkerError(UserError):
    """Solution markers that do not pair up; the message names ``file:line``."""


@dataclass(frozen=True)
class SolutionBlock:
    """One marked region of a text, by 0-based line index.

    Attributes
    ----------
    begin, end : int
        Indices of the ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines.
    indent : str
        The whitespace before ``### BEGIN SOLUTION``.
    """

    begin: int
    end: int
    indent: str


def find_solution_blocks(lines: list[str], where: str = "<text>") -> list[SolutionBlock]:
    """Pair up the solution markers of ``lines``.

    Parameters
    ----------
    lines : list of str
        The text, one line per entry (line endings may be kept).
    where : str
        Names the text in error messages (a file path, or ``notebook.ipynb cell 3``).

    Returns
    -------
    list of SolutionBlock
        In order of appearance.

    Raises
    ------
    MarkerError
        A BEGIN inside a block, an END outside one, or a BEGIN without END; the message
        gives ``where:line``.
    """
    blocks: list[SolutionBlock] = []
    open_at: int | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(BEGIN_SOLUTION):
            if open_at is not None:
                raise MarkerError(f"{where}:{index + 1}: '{BEGIN_SOLUTION}' inside the block "
                                  f"opened at line {open_at + 1}; close that block first")
            open_at = index
        elif stripped.startswith(END_SOLUTION):
            if open_at is None:
                raise MarkerError(f"{where}:{index + 1}: '{END_SOLUTION}' without a "
                                  f"'{BEGIN_SOLUTION}' before it")
            indent = re.match(r"[ \t]*", lines[open_at]).group(0)  # type: ignore[union-attr]  # always matches
            blocks.append(SolutionBlock(open_at, index, indent))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at + 1}: '{BEGIN_SOLUTION}' is never closed by "
                          f"'{END_SOLUTION}'")
    return blocks


def solution_lines(text: str, where: str = "<text>") -> list[str]:
    """The lines strictly inside the solution blocks of ``text`` (list of str)."""
    lines = text.splitlines()
    return [line for block in find_solution_blocks(lines, where)
            for line in lines[block.begin + 1:block.end]]


def public_lines(text: str, where: str = "<text>") -> list[str]:
    """The lines of ``text`` outside every solution block, markers excluded (list of str)."""
    lines = text.splitlines()
    hidden = {index for block in find_solution_blocks(lines, where)
              for index in range(block.begin, block.end + 1)}
    return [line for index, line in enumerate(lines) if index not in hidden]


def strip_solutions(text: str, where: str = "<text>") -> str:
    """Return ``text`` with every solution block replaced by the stub.

    Raises
    ------
    MarkerError
        Unbalanced markers (see :func:`find_solution_blocks`).
    """
    lines = text.splitlines(keepends=True)
    blocks = find_solution_blocks(lines, where)
    if not blocks:
        return text
    newline = "\r\n" if lines[blocks[0].begin].endswith("\r\n") else "\n"
    for block in reversed(blocks):      # from the end, so that earlier indices stay valid
        lines[block.begin:block.end + 1] = [f"{block.indent}{stub}{newline}" for stub in STUB_LINES]
    return "".join(lines)


def check_markers(path: str | os.PathLike[str]) -> None:
    """Raise :class:`MarkerError` if the markers of the file ``path`` do not pair up."""
    find_solution_blocks(Path(path).read_text(encoding="utf-8").splitlines(), str(path))


def strip_file(path: str | os.PathLike[str], label: str | None = None) -> bool:
    """Strip the solutions of one ``.py`` file in place.

    Parameters
    ----------
    path : Path
        The file to rewrite.
    label : str, optional
        How to name the file in errors (default: ``path``).

    Returns
    -------
    bool
        Whether the file had solution blocks.

    Raises
    ------
    MarkerError
        Unbalanced markers, or a block whose removal leaves code Python cannot parse
        (a block must hold whole statements).
    """
    path = Path(path)
    label = label or str(path)
    text = path.read_text(encoding="utf-8")
    stripped = strip_solutions(text, label)
    if stripped == text:
        return False
    try:
        compile(stripped, label, "exec")
    except SyntaxError as exc:
        raise MarkerError(f"{label}:{exc.lineno}: the file is not valid Python once its "
                          f"solutions are replaced by stubs ({exc.msg}); put whole "
                          f"statements between the markers") from None
    path.write_text(stripped, encoding="utf-8")
    return True


def strip_tree(folder: str | os.PathLike[str]) -> list[Path]:
    """Strip the solutions of every ``.py`` file under ``folder``.

    Returns
    -------
    list of Path
        The files that changed, relative to ``folder``.
    """
    folder = Path(folder)
    relative = [path.relative_to(folder) for path in sorted(folder.rglob("*.py"))]
    return [path for path in relative if strip_file(folder / path, str(path))]
