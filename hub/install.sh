#!/usr/bin/env bash
# Installs what the course hub runs, next to the project's .venv (which `make install` made):
#   hub/.venv          JupyterHub, pamela and Selenium (hub/requirements.txt), on Debian's
#                      /usr/bin/python3, which every user can execute. The project's .venv
#                      is layered under it (a .pth file), so JupyterLab, nbgrader, NumPy,
#                      course_lib and autograder are the project's own, not a second copy.
#   hub/node_modules   configurable-http-proxy (hub/package.json, pinned in package-lock).
# Idempotent; re-run after changing hub/requirements.txt or hub/package.json.
set -euo pipefail
cd "$(dirname "$0")"
HUB="$PWD"
PROJECT_VENV="$(cd .. && pwd)/.venv"
BASE_PYTHON="${NNFS_HUB_PYTHON:-/usr/bin/python3}"

[ -x "$PROJECT_VENV/bin/python" ] || { echo "hub/install.sh: run 'make install' first ($PROJECT_VENV is missing)" >&2; exit 1; }
[ -x "$BASE_PYTHON" ] || { echo "hub/install.sh: $BASE_PYTHON is missing (apt-get install python3 python3-venv)" >&2; exit 1; }
pyver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
PY="$(pyver "$BASE_PYTHON")"
if [ "$PY" != "$(pyver "$PROJECT_VENV/bin/python")" ]; then
    echo "hub/install.sh: $BASE_PYTHON is Python $PY but the project's .venv is not; set NNFS_HUB_PYTHON to a Python of the same minor version that other users can run" >&2
    exit 1
fi

[ -x .venv/bin/python ] || "$BASE_PYTHON" -m venv .venv
SITE=".venv/lib/python$PY/site-packages"
PROJECT_SITE="$("$PROJECT_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PROJECT_PREFIX="$("$PROJECT_VENV/bin/python" -c 'import sys; print(sys.prefix)')"
# addsitedir (not a bare path line) so the project's own .pth files, the editable install
# of course_lib/autograder among them, are honoured. It comes after hub/.venv's packages.
# The project's prefix joins site.PREFIXES so that site.getsitepackages() names its
# site-packages too: the grader's sandbox gives student code exactly those folders.
echo "import site; site.addsitedir('$PROJECT_SITE'); '$PROJECT_PREFIX' in site.PREFIXES or site.PREFIXES.append('$PROJECT_PREFIX')" > "$SITE/zz_nnfs_project_venv.pth"

.venv/bin/python -m pip --disable-pip-version-check -q install -r requirements.txt

# Console scripts of the project's packages, for hub/.venv's Python: the project's .venv
# scripts run a Python that users other than root may not be able to execute.
.venv/bin/python - <<'PY'
import os, sys
from importlib.metadata import distribution
bindir = os.path.join(sys.prefix, "bin")
for dist_name in ("nbgrader", "nnfs-course", "jupyter_core", "jupyter_server", "jupyterlab",
                  "jupyter_client", "nbconvert", "alembic", "pytest", "dask", "distributed"):
    try:
        eps = distribution(dist_name).entry_points
    except Exception:
        continue
    for ep in eps:
        if ep.group != "console_scripts":
            continue
        target = os.path.join(bindir, ep.name)
        if os.path.exists(target) and "nnfs-hub wrapper" not in open(target, errors="replace").read():
            continue  # hub/.venv's own script (jupyterhub, ...)
        module, _, attr = ep.value.partition(":")
        with open(target, "w") as fh:
            fh.write(f"#!{sys.executable}\n# nnfs-hub wrapper for {dist_name}\nimport sys\n"
                     f"from {module} import {attr.split('.')[0]}\n"
                     f"if __name__ == '__main__':\n    sys.exit({attr}())\n")
        os.chmod(target, 0o755)
PY
# The sandbox kernel nbgrader autograde uses, started by hub/.venv's Python.
.venv/bin/autograder kernel install >/dev/null

if [ ! -x node_modules/.bin/configurable-http-proxy ] || [ package.json -nt node_modules/.bin/configurable-http-proxy ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi
chmod -R a+rX .venv node_modules
.venv/bin/jupyterhub --version >/dev/null
node_modules/.bin/configurable-http-proxy --version >/dev/null
echo "hub/install.sh: JupyterHub $(.venv/bin/jupyterhub --version), configurable-http-proxy $(node_modules/.bin/configurable-http-proxy --version) in $HUB"
