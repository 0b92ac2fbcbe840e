"""benchmarks.timing: the measuring protocol itself (not any speed)."""
import pytest

from benchmarks.timing import best_time, interleaved_best


class FakeClock:
    """A clock that each candidate call advances by that candidate's next duration."""

    def __init__(self):
        self.now = 0.0
        self.log = []

    def __call__(self):
        return self.now

    def candidate(self, name, durations):
        durations = iter(durations)

        def run():
            self.log.append(name)
            self.now += next(durations)
        return run

    def sleep(self, seconds):
        self.log.append(f"sleep {seconds}")


def test_best_time_is_the_smallest_of_the_calls():
    clock = FakeClock()
    assert best_time(clock.candidate("f", [3.0, 1.0, 2.0]), 3, clock) == 1.0


def test_each_round_settles_warms_up_then_times_back_to_back():
    clock = FakeClock()
    candidates = {"a": clock.candidate("a", [9.0, 0.02, 0.02, 0.02, 0.05] + [9.0, 0.01, 0.3, 0.3]),
                  "b": clock.candidate("b", [9.0, 0.2, 0.3, 0.1] + [9.0, 0.2, 0.2, 0.2])}
    best = interleaved_best(candidates, rounds=2, calls_per_round=3, settle=0.5,
                            round_seconds=0.1, clock=clock, sleep=clock.sleep)
    # untimed first calls (9.0) never count; "a" needs 4 calls to fill 0.1 s, "b" 3
    assert best == pytest.approx({"a": 0.01, "b": 0.1})
    assert clock.log[:11] == ["sleep 0.5", "a", "a", "a", "a", "a",
                              "sleep 0.5", "b", "b", "b", "b"]
    assert clock.log.count("sleep 0.5") == 4
