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
