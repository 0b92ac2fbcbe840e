"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in turn."""
import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv=None):
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                   if m.name.startswith("bench_"))
    wanted = set(argv if argv is not None else sys.argv[1:])
    for name in names:
        if wanted and name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"\n=== benchmarks.{name} ===", flush=True)
        start = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main([])
        print(f"(benchmarks.{name} took {time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
