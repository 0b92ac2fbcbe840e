"""The part of every released README that tells a student how to get going.

``assignments/source/<assignment>/README.md`` describes the assignment; where it has the
line ``<!-- student-setup -->`` (otherwise at its end), ``autograder release`` puts the
sections below, filled in for the assignment: install the course package with its
``[student]`` extra (one command), point nbgrader at the course's exchange
(``nnfs-course student-setup``), fetch, open the notebooks, run the public tests with
``python -m pytest``, submit. Students get the release and nothing else, so the README
must stand alone: it never refers to the course's own README.

The course id comes from ``NBGRADER_COURSE_ID`` (default ``nnfs``, as in the course's
``nbgrader_config.py``). The exchange folder is written in only when ``NBGRADER_EXCHANGE``
is set at release time; otherwise the README says to use the folder the course staff
give (the default exchange lives inside the instructor's checkout).
"""
import os
from pathlib import Path

import course_lib

PLACEHOLDER = "<!-- student-setup -->"
EXCHANGE_PLACEHOLDER = "EXCHANGE_FOLDER"


def wheel_name() -> str:
    """File name of the portable student wheel (``COURSE_LIB_NO_CYTHON=1 pip wheel``)."""
    return f"nnfs_course-{course_lib.__version__}-py3-none-any.whl"


def student_sections(assignment: str, example_test: str = "tests") -> tuple[str, str]:
    """The Markdown for ``assignment``: ``(setup, finish)``, the set-up and fetch sections
    and the test and submit sections.

    ``example_test`` is a public test file to show running on its own.
    """
    course_id = os.environ.get("NBGRADER_COURSE_ID") or "nnfs"
    exchange = os.environ.get("NBGRADER_EXCHANGE")
    wheel = wheel_name()
    exchange_line = (f"nnfs-course student-setup --exchange {exchange or EXCHANGE_PLACEHOLDER} "
                     f"--course {course_id}")
    if exchange:
        folder = f"`{exchange}` is the course's exchange folder"
    else:
        folder = (f"Replace `{EXCHANGE_PLACEHOLDER}` with the exchange folder your\ncourse staff "
                  "give you (on a shared server often `/srv/nbgrader/exchange`)")
    exchange_text = f"{folder}: nbgrader\nfetches assignments from it and submits them to it."
    return (f"""\
## Setting up your computer (once)

You need Python 3.10 or newer and the course wheel from your course staff,
`{wheel}` (if your file has another name, use that name). In a
terminal, in the folder that holds the wheel:

```bash
python3 -m venv ~/nnfs-venv                 # a virtual environment for the course
source ~/nnfs-venv/bin/activate             # Windows: ~\\nnfs-venv\\Scripts\\activate
python -m pip install "{wheel}[student]"
{exchange_line}
```

The one `pip install` brings the course library (`course_lib`), JupyterLab, pytest and
nbgrader. {exchange_text}
`nnfs-course student-setup` writes that into your Jupyter configuration and hides nbgrader's
instructor tools in JupyterLab; run it again to change the folder. On the course's JupyterHub
all of this is done for you: skip this section.

In every new terminal, activate the environment first: `source ~/nnfs-venv/bin/activate`.

## Getting the assignment and working on it

```bash
nbgrader fetch_assignment {assignment} --course {course_id}   # creates the folder {assignment}/ here
cd {assignment}
jupyter lab                                # then open the notebooks, in the order given above
```

(If you got this folder as a zip instead, unpack it and `cd` into it.) JupyterLab's
*Nbgrader > Assignment List* shows the same: released, fetched and submitted assignments.
""", f"""\
## Running the public tests

From a terminal in the `{assignment}` folder, with the environment activated:

```bash
python -m pytest                    # all public tests
python -m pytest {example_test}
```

Always write `python -m pytest`: it runs the pytest of the Python that has the course
library. Typing pytest alone may start another Python's pytest, which fails with
`No module named 'course_lib'`.

## Submitting

Restart the kernel and run every notebook from top to bottom, save, and check that
`python -m pytest` runs. Then, from the folder that holds `{assignment}/`:

```bash
nbgrader submit {assignment} --course {course_id}
```

nbgrader refuses a submission in which a notebook was renamed or deleted. You may submit
again until the deadline; the last submission counts. If your course collects zips instead,
zip the whole `{assignment}` folder (notebooks and `nnfs/`).
""")


def complete_readme(folder: str | os.PathLike[str], assignment: str) -> Path:
    """Put the student sections into ``folder/README.md`` (created if missing).

    The set-up sections replace the line ``<!-- student-setup -->`` (without it they are
    appended); the test and submit sections always go at the end. Returns the README's path.
    """
    path = Path(folder) / "README.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else f"# {assignment}\n"
    tests = sorted(Path(folder).glob("tests/test_*.py"))
    setup, finish = student_sections(assignment, tests[0].relative_to(folder).as_posix()
                                     if tests else "tests")
    lines = text.splitlines(keepends=True)
    marked = [i for i, line in enumerate(lines) if line.strip() == PLACEHOLDER]
    if marked:  # the set-up goes at the first marker; any other marker line goes
        text = "".join(setup if i == marked[0] else line
                       for i, line in enumerate(lines) if i not in marked[1:])
    else:
        text = text.rstrip("\n") + "\n\n" + setup
    text = text.rstrip("\n") + "\n\n" + finish
    path.write_text(text, encoding="utf-8")
    return path
