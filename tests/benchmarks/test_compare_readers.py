"""Two readers scored on the same photos are compared photo by photo (McNemar's exact test)."""

import json

import pytest

from benchmarks.scripts.compare_readers import compare, main, mcnemar_exact


def test_mcnemar_exact_is_the_two_sided_binomial_tail_of_the_discordant_scenes() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)  # 5 of 5 to one side: 2 * (1/2)^5
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)  # 0 or 1 of 10 to one side
    assert mcnemar_exact(9, 1) == mcnemar_exact(1, 9)


def test_compare_counts_the_scenes_only_one_reader_has() -> None:
    #           right/right, right/wrong, wrong/rejected, rejected/right, wrong/wrong
    right, wrong = compare("RRW-W", "RW-RW")
    assert right == {"outcome": "right", "a": 0.4, "b": 0.4, "a_only": 1, "b_only": 1, "p_value": 1.0}
    assert wrong == {"outcome": "wrong", "a": 0.4, "b": 0.4, "a_only": 1, "b_only": 1, "p_value": 1.0}
    with pytest.raises(ValueError, match="equally long"):
        compare("RW", "R")


def scenes_result(path, outcomes, seed=1):
    path.write_text(json.dumps({"results": {"scenes": {"seed": seed, "count": len(outcomes)}, "outcomes": {"2": outcomes}}}))
    return str(path)


def test_the_command_refuses_results_of_different_scenes(tmp_path, capsys) -> None:
    a = scenes_result(tmp_path / "a.json", "RRRR")
    with pytest.raises(SystemExit):
        main([a, scenes_result(tmp_path / "b.json", "RRRR", seed=2)])
    assert "different photos" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([a, a, "--outcomes", "1"])
    assert "no outcomes at '1'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([a, str(tmp_path / "missing.json")])
    assert "missing.json" in capsys.readouterr().err
    unnamed = tmp_path / "unnamed.json"
    unnamed.write_text(json.dumps({"results": {"outcomes": {"2": "RRRR"}}}))
    with pytest.raises(SystemExit):
        main([str(unnamed), str(unnamed)])
    assert "cannot be paired" in capsys.readouterr().err


def test_the_command_writes_its_comparison(tmp_path, monkeypatch) -> None:
    import benchmarks.record

    monkeypatch.setattr(benchmarks.record, "RESULTS", tmp_path)
    main([scenes_result(tmp_path / "a.json", "RRRRRR"), scenes_result(tmp_path / "b.json", "------"), "--name", "pair"])
    rows = json.loads((tmp_path / "pair.json").read_text())["results"]["rows"]
    assert rows[0] == {"outcome": "right", "a": 1.0, "b": 0.0, "a_only": 6, "b_only": 0, "p_value": round(2 / 64, 4)}


def test_house_front_results_are_compared_by_seed_and_photo_kind(tmp_path, capsys) -> None:
    def fronts(path, with_number):
        result = {"photos": {"seed": 8646, "with_number": len(with_number)}, "outcomes": {"8646": {"with_number": with_number, "number_free": "--"}}}
        path.write_text(json.dumps({"results": result}))
        return str(path)

    main([fronts(tmp_path / "a.json", "RRW-"), fronts(tmp_path / "b.json", "R-RR"), "--outcomes", "8646/with_number"])
    table = capsys.readouterr().out
    assert "4 photos, outcomes 8646/with_number" in table and "right    0.5" in table


def test_house_fronts_of_two_seeds_are_pooled_in_order(tmp_path, monkeypatch, capsys) -> None:
    import benchmarks.record

    monkeypatch.setattr(benchmarks.record, "RESULTS", tmp_path)

    def fronts(path, first, second):
        outcomes = {"8651": {"with_number": first}, "9762": {"with_number": second}}
        path.write_text(json.dumps({"results": {"photos": {"seed": 8651}, "outcomes": outcomes}}))
        return str(path)

    a, b = fronts(tmp_path / "a.json", "RR", "R-"), fronts(tmp_path / "b.json", "R-", "RW")
    main([a, b, "--outcomes", "8651/with_number,9762/with_number", "--name", "pooled"])
    right, wrong = json.loads((tmp_path / "pooled.json").read_text())["results"]["rows"]
    # a reads photos 1, 2 and 3 right, b photos 1 and 3: photo 2 is a's alone; b alone reads photo 4 wrong
    assert right == {"outcome": "right", "a": 0.75, "b": 0.5, "a_only": 1, "b_only": 0, "p_value": 1.0}
    assert wrong == {"outcome": "wrong", "a": 0.0, "b": 0.25, "a_only": 0, "b_only": 1, "p_value": 1.0}
    with pytest.raises(SystemExit):
        main([a, b, "--outcomes", "8651/with_number,1/with_number"])
    assert "no outcomes at '1/with_number'" in capsys.readouterr().err
