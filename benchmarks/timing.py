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


def interleaved_best(candidates, rounds, calls_per_round=3, settle=0.2, round_seconds=0.1,
                     clock=time.perf_counter, sleep=time.sleep):
    """Best time (s) of each callable in ``candidates`` (a dict), measured in rounds.

    Every round visits each candidate in turn: a pause of ``settle`` seconds, one untimed
    call, then timed calls, at least ``calls_per_round`` of them and as many as fit in
    ``round_seconds``. Rounds spread the machine's changing load over every candidate;
    within a round a candidate runs back to back, in the steady state a training loop is
    in. The pause matters for comparisons with a BLAS baseline: after a multi-threaded call
    OpenBLAS keeps its idle workers spinning for about 0.1 s, and without the pause
    whichever candidate runs next would pay for that (the untimed call then wakes the
    pools and caches again, for every candidate alike).
    """
    best = {name: float("inf") for name in candidates}
    for _ in range(rounds):
        for name, function in candidates.items():
            if settle:
                sleep(settle)
            function()
            calls, spent = 0, 0.0
            while calls < calls_per_round or spent < round_seconds:
                start = clock()
                function()
                elapsed = clock() - start
                best[name] = min(best[name], elapsed)
                calls, spent = calls + 1, spent + elapsed
    return best
