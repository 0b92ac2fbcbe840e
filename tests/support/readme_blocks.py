"""The shell blocks of README.md and the markers that say how the README test runs them.

Every fenced ``bash`` block in README.md is preceded (on the line before its fence) by one
HTML comment, invisible on GitHub:

``<!-- readme-test: ROLE STEP -->``
    run by ``tests/test_readme.py`` as ROLE (``student``, ``instructor`` or ``ta``), in
    ascending STEP order across the whole README, exactly as written;
``<!-- readme-test: elsewhere TEST -->``
    run as written by another test (TEST names it, e.g. ``tests/test_demo.py``);
``<!-- readme-test: not run: REASON -->``
    a command that cannot run here (a cluster address, a browser), with the reason.
"""
import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<spec>.*?)\s*-->\s*$")
ROLES = ("student", "instructor", "ta")


@dataclass(frozen=True)
class Block:
    """One fenced shell block of the README.

    Attributes
    ----------
    line : int
        1-based line number of the opening fence.
    text : str
        The commands, as written.
    kind : str
        ``"run"``, ``"elsewhere"`` or ``"not run"``; ``""`` when the marker is missing.
    role : str
        For ``"run"``: who runs it.
    step : float
        For ``"run"``: its place in the round trip.
    note : str
        For ``"elsewhere"`` the test that runs it, for ``"not run"`` the reason.
    """
    line: int
    text: str
    kind: str = ""
    role: str = ""
    step: float = 0.0
    note: str = ""


class MarkerError(ValueError):
    pass


def parse_marker(spec, line):
    """``(kind, role, step, note)`` of a marker's text; MarkerError when it is malformed."""
    if spec.startswith("not run:"):
        note = spec[len("not run:"):].strip()
        if not note:
            raise MarkerError(f"README.md:{line}: 'not run:' needs a reason")
        return "not run", "", 0.0, note
    words = spec.split()
    if len(words) == 2 and words[0] == "elsewhere":
        return "elsewhere", "", 0.0, words[1]
    if len(words) == 2 and words[0] in ROLES:
        try:
            return "run", words[0], float(words[1]), ""
        except ValueError:
            pass
    raise MarkerError(f"README.md:{line}: cannot read the marker {spec!r}; expected "
                      f"'ROLE STEP' (ROLE in {ROLES}), 'elsewhere TEST' or 'not run: REASON'")


def shell_blocks(path):
    """Every ``bash``/``sh``/``console`` block of the Markdown file ``path``, with its marker.

    Returns
    -------
    list of Block
    """
    lines = Path(path).read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("```")),
                   len(lines))
        if fence.group(1) in ("bash", "sh", "shell", "console"):
            text = "\n".join(lines[index + 1:end]) + "\n"
            previous = lines[index - 1] if index else ""
            marker = MARKER.match(previous)
            if marker:
                kind, role, step, note = parse_marker(marker.group("spec"), index)
                blocks.append(Block(index + 1, text, kind, role, step, note))
            else:
                blocks.append(Block(index + 1, text))
        index = end + 1
    return blocks


def round_trip(path):
    """The blocks to run, in the order of their steps (README order breaks ties)."""
    runnable = [b for b in shell_blocks(path) if b.kind == "run"]
    return sorted(runnable, key=lambda b: (b.step, b.line))
