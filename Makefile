# The two commands a new user needs (see README.md):
#   make demo   set everything up, then run the instructor demo on the embedded data
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install demo test bench clean

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

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info course_lib/*.so course_lib/_im2col_cython.c
