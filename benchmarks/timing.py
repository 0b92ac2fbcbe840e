"""Timing helper shared by the benchmarks."""
import time


def best_time(function, repeats=1, clock=time.perf_counter):
    """The smallest time (s) of ``repeats`` calls of ``function``.

    ``clock=time.process_time`` measures CPU time instead of wall time: on a machine shared
    with other jobs, waiting for a core then does not count against whichever
    implementation happened to be running (for single-threaded code only).
    """
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        function()
        best = min(best, clock() - start)
    return best


def interleaved_best(candidates, rounds, calls_per_round=3, settle=0.2,
                     clock=time.perf_counter, sleep=time.sleep):
    """Best time (s) of each callable in ``candidates`` (a dict), measured in rounds.

    Every round visits each candidate in turn: a pause of ``settle`` seconds, one untimed
    call, then ``calls_per_round`` timed calls. Rounds spread the machine's changing load
    over every candidate. The pause matters for comparisons with a BLAS baseline: after a
    multi-threaded call OpenBLAS keeps its idle workers spinning for about 0.1 s, and
    without the pause whichever candidate runs next would pay for that (the untimed call
    then wakes the pools and caches again, for every candidate alike).
    """
    best = {name: float("inf") for name in candidates}
    for _ in range(rounds):
        for name, function in candidates.items():
            if settle:
                sleep(settle)
            function()
            best[name] = min(best[name], best_time(function, calls_per_round, clock))
    return best
