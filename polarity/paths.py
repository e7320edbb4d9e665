"""Every path the project reads or writes, in one place."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "report"
RESULTS_OF_RECORD = REPORT / "results"  # committed results of the `full` profile
FIGURES = REPORT / "figures"
TEMPLATES = ROOT / "templates"
BUILD = ROOT / "build"  # scratch: results of non-full profiles, intermediate render files

# Data sets: the folder beside the checkout that development machines and CI share.
SHARED_DATA = ROOT.parent / "shared" / "data"


def results_dir(profile: str) -> Path:
    """Where a profile's results go: only `full` writes the committed results of record."""
    return RESULTS_OF_RECORD if profile == "full" else BUILD / "results" / profile
