"""Quarto pre-render step: build report/index.qmd and its figures from the results JSON.

Quarto runs this with its own Python. The build needs the project's packages, so this
prefers, in order: $POLARITY_PYTHON, the checkout's .venv (made by `make`), this Python.
Results come from $POLARITY_RESULTS_DIR, else the committed results of record.
"""

import os
import subprocess
import sys
from pathlib import Path

project = Path(__file__).resolve().parent.parent
venv_python = project / ".venv" / "bin" / "python"
python = os.environ.get("POLARITY_PYTHON") or (
    str(venv_python) if venv_python.exists() else sys.executable
)

command = [python, "-m", "polarity", "build", "--report-dir", str(project / "report")]
if os.environ.get("POLARITY_RESULTS_DIR"):
    command += ["--results", os.environ["POLARITY_RESULTS_DIR"]]

check = subprocess.run([python, "-c", "import polarity.article"], capture_output=True, cwd=project)
if check.returncode != 0:
    sys.exit(
        f"pre-render: {python} cannot import the polarity package; run `make venv` "
        "(or `pip install -e .`) in the project folder, then `quarto render` again"
    )
sys.exit(subprocess.call(command, cwd=project))
