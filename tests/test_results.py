"""Results files: hashing, schema checks, atomic writing, clear errors."""

import copy
import json

import pytest

from polarity import paths
from polarity.results import (
    SCHEMA_VERSION,
    ResultError,
    config_hash,
    read_result,
    read_results,
    validate,
    write_result,
)

RECORD = paths.RESULTS_OF_RECORD / "replication.json"


@pytest.fixture
def result():
    return json.loads(RECORD.read_text())


def test_config_hash_is_stable_and_sensitive():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_committed_results_validate_and_carry_their_hash(result):
    validate(result)
    assert result["config_hash"] == config_hash(result["config"])


def test_missing_metric_is_named(result):
    del result["metrics"]["independent_trials"]["difference"]
    with pytest.raises(
        ResultError, match="metrics: independent_trials: 'difference' is a required"
    ):
        validate(result)


def test_out_of_range_accuracy_is_named(result):
    result["metrics"]["answer_protocol"]["normal"]["mean"] = 1.7
    with pytest.raises(ResultError, match="answer_protocol/normal/mean: 1.7 is greater than"):
        validate(result)


def test_older_schema_version_says_to_rerun(result):
    result["schema_version"] = SCHEMA_VERSION - 1 if SCHEMA_VERSION > 1 else 0
    with pytest.raises(ResultError, match="schema version .* rerun the experiment"):
        validate(result)


def test_hand_edited_json_gives_line_and_column(tmp_path):
    path = tmp_path / "replication.json"
    path.write_text('{"schema_version": 1,\n "experiment": }')
    with pytest.raises(ResultError, match=r"replication.json: not valid JSON \(line 2, column 16"):
        read_result(path)


def test_a_file_read_before_is_checked_again_once_its_bytes_change(tmp_path, result):
    """Reads skip the schema checks for bytes this process has accepted, so a file edited
    between two reads (a preview's rebuild, say) must be checked again."""
    path = tmp_path / "replication.json"
    path.write_bytes(RECORD.read_bytes())
    assert read_result(path) == read_result(path) == result
    result["metrics"]["answer_protocol"]["normal"]["mean"] = 1.7
    path.write_text(json.dumps(result, indent=1))
    with pytest.raises(ResultError, match="answer_protocol/normal/mean: 1.7 is greater than"):
        read_result(path)
    with pytest.raises(ResultError, match="answer_protocol/normal/mean: 1.7 is greater than"):
        read_result(path)  # and refused each time, not only the first


def test_a_read_result_is_the_caller_s_own_to_change(result):
    first = read_result(RECORD)
    first["metrics"]["answer_protocol"]["normal"]["mean"] = "changed"
    assert read_result(RECORD) == result


def test_unsafe_experiment_name_never_becomes_a_file_name(tmp_path, result):
    result["experiment"] = "../escape"
    with pytest.raises(ResultError, match="must match"):
        write_result(tmp_path, result)


def test_write_then_read_round_trips_without_leftovers(tmp_path, result):
    path = write_result(tmp_path, result)
    assert read_result(path) == result
    assert [p.name for p in tmp_path.iterdir()] == ["replication.json"]  # no temp file left


def test_invalid_result_is_never_written(tmp_path, result):
    broken = copy.deepcopy(result)
    del broken["provenance"]["backend"]
    with pytest.raises(ResultError, match="'backend' is a required property"):
        write_result(tmp_path, broken)
    assert not any(tmp_path.iterdir())


def test_empty_results_folder_says_what_to_do(tmp_path):
    with pytest.raises(ResultError, match="no results files; run `polarity run` first"):
        read_results(tmp_path)


def test_results_of_record_are_current_for_this_code_and_environment():
    """Changing an experiment, a module it imports, the data checksums or a pinned version
    means rerunning `make results`: committed numbers must come from the committed code."""
    from polarity.cache import cache_key, what_changed
    from polarity.results import read_results

    for name, result in read_results(paths.RESULTS_OF_RECORD).items():
        changed = what_changed(result["cache_key"], cache_key(name, result["config"]))
        assert changed == [], f"{name}.json is stale ({', '.join(changed)}); run `make results`"


def test_results_the_run_writes_do_not_make_the_tree_dirty(tmp_path, monkeypatch):
    """A full run rewrites report/results/ experiment by experiment; only a change to
    anything else is a change to the code the result came from."""
    import subprocess

    from polarity.results import provenance

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "report" / "results").mkdir(parents=True)
    (tmp_path / "report" / "results" / "sweep.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setattr(paths, "RESULTS_OF_RECORD", tmp_path / "report" / "results")

    (tmp_path / "report" / "results" / "sweep.json").write_text('{"rewritten": true}')
    assert provenance("now", 1.0)["git_dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert provenance("now", 1.0)["git_dirty"] is True


def test_a_profile_table_edit_leaves_the_source_digest_but_any_other_edit_changes_it(tmp_path):
    """Retuning the quick profile must not stale the results of record: the config digest
    covers what a profile chose. Every other byte of the module still counts."""
    from polarity.cache import source_digest

    module = tmp_path / "exp.py"
    text = 'RATE = 0.1\nPROFILES = {\n    "quick": Config(n=2),\n    "full": Config(),\n}\n'
    module.write_text(text)
    before = source_digest(module)
    module.write_text(text.replace("n=2", "n=3"))
    assert source_digest(module) == before
    module.write_text(text.replace("RATE = 0.1", "RATE = 0.2"))
    assert source_digest(module) != before
    module.write_text(text.replace("PROFILES = {", "OTHER = {"))
    assert source_digest(module) != before


def test_keys_stored_before_profiles_were_left_out_match_only_the_same_source():
    """A stored key with a module's old whole-file digest is read as the digest of that
    file less its PROFILES table; a stored digest of some other source still differs."""
    from polarity.cache import DIGESTS_BEFORE_PROFILES_LEFT_OUT, cache_key, what_changed

    config = json.loads(RECORD.read_text())["config"]
    current = cache_key("replication", config)
    stored = copy.deepcopy(current)
    old = {new: old for old, new in DIGESTS_BEFORE_PROFILES_LEFT_OUT.items()}
    component = "source:experiments.replication"
    stored["components"][component] = old[current["components"][component]]
    assert what_changed(stored, current) == []
    stored["components"][component] = "0" * 64
    assert what_changed(stored, current) == [component]
