"""Run a hidden suite, without the sandbox, against many copies of a student package.

Starting Python, NumPy and pytest costs more than the hidden tests themselves, so each
worker process runs the suite for several packages in turn (``pytest.main`` once per
package, with the previous ``nnfs`` modules dropped from ``sys.modules`` in between).
Run as ``python -m tests.mutants.runner JOBS.json`` by :func:`grade_many`.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.mutants import apply_mutant

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "tests.mutants.local_grading_plugin"


@dataclass(frozen=True)
class Job:
    """One run of (part of) a hidden suite.

    Attributes
    ----------
    name : str
    student_root, reference_root : str
        Folders holding the ``nnfs`` package under test and the instructor's one.
    test_paths : list of str
        Hidden test files or folders to run.
    report : str
        Where the JUnit XML report goes.
    """

    name: str
    student_root: str
    reference_root: str
    test_paths: list
    report: str


def make_mutant(source_assignment, mutants, target):
    """Copy ``source_assignment/nnfs`` into ``target/nnfs`` and apply ``mutants`` there.

    ``mutants`` is one :class:`autograder.mutants.Mutant`, a sequence of them (patches of
    different places, applied in turn) or None (a plain copy). Returns ``target``. Raises
    ValueError if a patch's text does not occur exactly once (the reference changed; update
    the mutant).
    """
    shutil.copytree(Path(source_assignment) / "nnfs", Path(target) / "nnfs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if mutants is None:
        mutants = []
    elif not isinstance(mutants, (list, tuple)):
        mutants = [mutants]
    for mutant in mutants:
        apply_mutant(target, mutant)
    return Path(target)


def grade_catalogue(source, catalogue, base, baselines=True):
    """Run the hidden suite on every mutant of ``catalogue``; returns ``{name: (outcomes, output)}``.

    ``source`` is the assignment folder (``assignments/source/<assignment>``), ``catalogue`` a
    module of ``tests/mutants/`` (``ALL``, ``HIDDEN_FILES_FOR``, ``HIDDEN_FILES``, and
    ``patches(mutant)`` when a mutant patches several places). A mutant runs only the hidden
    files of the module it changes. With ``baselines``, the reference (``"reference"``) and a
    degenerate submission per variant (``"degenerate_<variant>"``) run every file of
    ``HIDDEN_FILES`` too.
    """
    from tests.degenerate.generator import VARIANTS, make_degenerate_submission

    source, base = Path(source), Path(base)
    hidden = REPO_ROOT / "autograder" / "hidden" / source.name
    patches = getattr(catalogue, "patches", lambda mutant: mutant)

    def job(name, root, files):
        return Job(name=name, student_root=str(root), reference_root=str(source),
                   test_paths=[str(hidden / f) for f in files], report=str(base / f"{name}.xml"))

    jobs = [job(m.name, make_mutant(source, patches(m), base / m.name), catalogue.HIDDEN_FILES_FOR[m.file])
            for m in catalogue.ALL]
    if baselines:
        jobs.append(job("reference", make_mutant(source, None, base / "reference"), catalogue.HIDDEN_FILES))
        for kind in VARIANTS:
            folder = base / f"degenerate_{kind}" / source.name
            make_degenerate_submission(source, folder, kind)
            jobs.append(job(f"degenerate_{kind}", folder, catalogue.HIDDEN_FILES))
    return grade_many(jobs, base, workers=2)


def outcomes_from_junit(path):
    """``{test id: "passed" | "failed" | "error" | "skipped"}`` from a JUnit XML report."""
    outcomes = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        status = ("failed" if "failure" in kinds else "error" if "error" in kinds
                  else "skipped" if "skipped" in kinds else "passed")
        outcomes[case.get("name")] = status
    return outcomes


def _forget_student_modules():
    # The reference copy too: each job's pytest session copies it to a new temporary folder,
    # and pytest deletes old ones, so a cached package would look for its submodules in a
    # folder that is gone (only modules a later job imports for the first time fail).
    for name in [n for n in sys.modules
                 if n.split(".")[0] in ("nnfs", "nnfs_reference")]:
        del sys.modules[name]


def _run_job(job):
    """Run one job in this process; returns pytest's console output."""
    import pytest

    _forget_student_modules()
    sys.path[:] = [p for p in sys.path if p != job.student_root]
    os.environ["LOCAL_GRADING_STUDENT"] = job.student_root
    os.environ["LOCAL_GRADING_REFERENCE"] = job.reference_root
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        pytest.main(["-q", "-p", "no:cacheprovider", "-p", PLUGIN, f"--junitxml={job.report}",
                     "--rootdir", str(REPO_ROOT), *job.test_paths])
    return output.getvalue()


def grade_many(jobs, workdir, workers=2, timeout=600):
    """Run ``jobs`` in ``workers`` processes; returns ``{job name: (outcomes, output)}``."""
    workdir = Path(workdir)
    chunks = [jobs[i::workers] for i in range(workers) if jobs[i::workers]]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    processes = []
    for number, chunk in enumerate(chunks):
        spec = workdir / f"jobs{number}.json"
        spec.write_text(json.dumps([asdict(job) for job in chunk]))
        processes.append(subprocess.Popen([sys.executable, "-m", "tests.mutants.runner", str(spec)],
                                          cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True))
    worker_output = [process.communicate(timeout=timeout)[0] for process in processes]
    results = {}
    for job in jobs:
        log = Path(job.report).with_suffix(".log")
        if not Path(job.report).is_file():
            raise RuntimeError(f"job {job.name} produced no report:\n" + "\n".join(worker_output))
        results[job.name] = (outcomes_from_junit(job.report), log.read_text())
    return results


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for spec in json.loads(Path(argv[0]).read_text()):
        job = Job(**spec)
        output = _run_job(job)
        Path(job.report).with_suffix(".log").write_text(output)


if __name__ == "__main__":
    main()
