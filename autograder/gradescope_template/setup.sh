#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
# It installs Python, the course's requirements and the course package shipped in this zip
# into a virtual environment that run_autograder uses.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV=/opt/course-venv

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential
# The sandbox for student code. Where the image cannot create user namespaces, the grader
# says so in every result and falls back to one uid per submission (see the README).
apt-get install -y --no-install-recommends bubblewrap || echo "setup.sh: bubblewrap not installed; the grader will use its weaker fallback" >&2

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
# The course package (course_lib with its Cython extension, and the autograder) from the
# copy in this zip, so that the image grades with exactly the code it was exported from.
"$VENV/bin/python" -m pip install --no-build-isolation "$SOURCE/course"
"$VENV/bin/python" -c "import course_lib, autograder.grading"

# The hidden tests and the reference solution under $SOURCE/course stay readable by root
# only: bubblewrap does not show them to student code at all, and the fallback (one
# unprivileged uid per submission) must not be able to read them either.
chmod -R go-rwx "$SOURCE"
