"""Benchmarks of svhnx: ``python -m benchmarks [NAME ...]`` (or ``nox -s benchmarks``)."""
