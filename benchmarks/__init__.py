"""Performance measurements. Run all with ``python -m benchmarks``; each prints ratios
against a baseline measured in the same run, never absolute pass/fail timings."""
