"""Reproducible benchmarks: `make bench` (or `python -m bench [name ...]`).

Each benchmark writes `bench/results/<name>.json`; `bench.report` turns them all into
docs/benchmarks.md, so one slow benchmark can be rerun alone without losing the others.
"""
