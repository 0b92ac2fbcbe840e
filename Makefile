# The two commands a new user needs (see README.md):
#   make demo   set everything up, then run the instructor demo on the embedded data
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install demo test lint typecheck bench clean hub hub-install hub-clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt setup.py pyproject.toml course_lib/_im2col_cython.pyx Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	$(BIN)/python -c "import numpy, nbgrader, dask, distributed, Cython, tqdm, matplotlib" \
		|| { echo "make install: dependencies did not install; see the pip output above" >&2; exit 1; }
	@command -v bwrap >/dev/null 2>&1 || echo "make install: NOTE bubblewrap (bwrap) is not installed; the grader will fall back to weaker isolation (apt-get install bubblewrap)" >&2
	$(PIP) install --no-build-isolation -e .
	$(BIN)/python -c "import course_lib.im2col as m; print('course_lib im2col backend:', m.BACKEND)"
	$(BIN)/autograder kernel install
	touch $@

demo: install
	$(BIN)/autograder demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# mypy on course_lib and autograder ([tool.mypy] in pyproject.toml)
typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info course_lib/*.so course_lib/_im2col_cython.c

# The course on JupyterHub, on this machine only (127.0.0.1:8000; needs root): demo accounts,
# the shared course folder and exchange, then the hub in the foreground. See
# docs/JUPYTERHUB.md. `make hub-clean` removes the demo accounts again.
HUB_STATE ?= /srv/nnfs-hub

hub-install: install
	bash hub/install.sh

hub: hub-install
	@test "$$(id -u)" = 0 || { echo "make hub: run as root (the hub starts servers as the students' Unix accounts)" >&2; exit 1; }
	NNFS_HUB_STATE=$(HUB_STATE) hub/.venv/bin/python hub/setup_users.py create
	NNFS_HUB_STATE=$(HUB_STATE) hub/.venv/bin/python hub/run_hub.py

hub-clean:
	NNFS_HUB_STATE=$(HUB_STATE) $(PYTHON) hub/setup_users.py remove
