"""The results of record, fresh for each test, which may change them to see a claim flip."""

import json

import pytest

from polarity import paths
from polarity.results import read_results


@pytest.fixture
def results():
    """The replication's results of record alone."""
    return {"replication": json.loads((paths.RESULTS_OF_RECORD / "replication.json").read_text())}


@pytest.fixture
def all_results():
    """Every result of record."""
    return read_results(paths.RESULTS_OF_RECORD)
