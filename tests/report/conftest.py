"""The results of record, fresh for each test, which may change them to see a claim flip."""

import json
from pathlib import Path

import pytest

from polarity import paths
from polarity.article import compose, read_citation
from polarity.results import read_results


@pytest.fixture
def results():
    """The replication's results of record alone."""
    return {"replication": json.loads((paths.RESULTS_OF_RECORD / "replication.json").read_text())}


@pytest.fixture
def all_results():
    """Every result of record."""
    return read_results(paths.RESULTS_OF_RECORD)


def built_article(results: dict, where: Path) -> str:
    """The article `build` would write from `results` (experiment -> result), the results
    in a folder of their own under `where`; its figures are not drawn (article.compose)."""
    folder = where / "results"
    folder.mkdir(parents=True)
    for experiment, result in results.items():
        (folder / f"{experiment}.json").write_text(json.dumps(result))
    text, _, _ = compose(folder, read_citation())
    return text
