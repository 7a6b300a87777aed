"""The latency benchmark times the shipped models unless told otherwise: an untrained localizer
finds nothing, so its reader would never reach the recognizer."""

import json

import pytest

pytestmark = pytest.mark.slow  # about 10 s: run with -m slow, or the whole suite with nox -s tests


def test_the_latency_benchmark_times_the_shipped_reader_by_default(tmp_path, monkeypatch) -> None:
    import benchmarks.record
    from benchmarks.scripts.reader_latency import main

    monkeypatch.setattr(benchmarks.record, "RESULTS", tmp_path)
    main(["--photos", "1", "--number-free", "1", "--reads", "1"])
    results = json.loads((tmp_path / "reader_latency.json").read_text())["results"]
    assert results["localizer"] == results["recognizer"] == "shipped"
    default = [row for row in results["rows"] if row["configuration"].endswith("(default)")]
    assert len(default) == 6 and {row["photos"] for row in default} == {"with a number", "without a number"}
    read = [row for row in default if row["photos"] == "with a number"]
    assert all(row["number_read"] == 1 for row in read)  # read in the retry at 448 px: the number is small in this photo
    first_pass = [row for row in results["rows"] if "64-128-448" in row["configuration"] and row["photos"] == "with a number"]
    assert len(first_pass) == 3 and all(row["candidates_read"] == 1 and row["recognize_cpu_s"] > 0 and row["number_read"] == 1 for row in first_pass)
    retried = [row for row in results["rows"] if row["configuration"].endswith("retry at 512") and row["photos"] == "without a number"]
    assert len(retried) == 3 and all(row["retry_cpu_s"] > 0 for row in retried)  # nothing read: the retry looks again
