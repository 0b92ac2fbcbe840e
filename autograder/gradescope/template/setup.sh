#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
# It installs Python, the course's requirements and the course package shipped in this zip
# into a virtual environment that run_autograder uses.
#
# The course needs Python 3.10 or newer (pyproject.toml: requires-python). The interpreter is
# checked before anything is installed (when the image has one already) and again right after
# apt-get installed it, so an image with an older Python fails at once with a message instead
# of late, in pip. `setup.sh --check-python` runs only that check.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV=/opt/course-venv
MIN_MAJOR=3
MIN_MINOR=10

# check_python [required]: exit 1 with a clear message when python3 is older than
# MIN_MAJOR.MIN_MINOR or its version cannot be read; with "required", also when there is no
# python3 on PATH (without it, a missing python3 is fine: apt-get installs one next).
check_python() {
    local python version major minor
    if ! python="$(command -v python3)"; then
        if [ "${1:-}" = required ]; then
            echo "setup.sh: error: no python3 on PATH; the course needs Python >= $MIN_MAJOR.$MIN_MINOR" >&2
            exit 1
        fi
        return 0
    fi
    version="$("$python" --version 2>&1 || true)"
    if [[ "$version" =~ Python[[:space:]]+([0-9]+)\.([0-9]+) ]]; then
        major="${BASH_REMATCH[1]}"
        minor="${BASH_REMATCH[2]}"
    else
        echo "setup.sh: error: cannot tell the version of $python (it printed: ${version:-nothing}); the course needs Python >= $MIN_MAJOR.$MIN_MINOR" >&2
        exit 1
    fi
    if (( major < MIN_MAJOR || (major == MIN_MAJOR && minor < MIN_MINOR) )); then
        echo "setup.sh: error: $python is ${version}, but the course needs Python >= $MIN_MAJOR.$MIN_MINOR." >&2
        echo "setup.sh: choose a Gradescope base image whose python3 is $MIN_MAJOR.$MIN_MINOR or newer (for example Ubuntu 22.04) and upload the zip again; nothing was installed." >&2
        exit 1
    fi
    echo "setup.sh: using $python ($version)"
}

if [ "${1:-}" = "--check-python" ]; then
    check_python required
    exit 0
fi

check_python        # an image that already has an older python3 stops here

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential
check_python required       # the python3 apt-get gave (e.g. 3.8 on Ubuntu 20.04)
# The sandbox for student code. Where the image cannot create user namespaces, the grader
# says so in every result and falls back to one uid per submission (see the README).
apt-get install -y --no-install-recommends bubblewrap || echo "setup.sh: bubblewrap not installed; the grader will use its weaker fallback" >&2

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
# The course package (course_lib with its Cython extension, and the autograder) from the
# copy in this zip, so that the image grades with exactly the code it was exported from.
"$VENV/bin/python" -m pip install --no-build-isolation "$SOURCE/course"
"$VENV/bin/python" -c "import course_lib, autograder.grading.submission"

# The hidden tests and the reference solution under $SOURCE/course stay readable by root
# only: bubblewrap does not show them to student code at all, and the fallback (one
# unprivileged uid per submission) must not be able to read them either.
chmod -R go-rwx "$SOURCE"
