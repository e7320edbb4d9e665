"""Quarto post-render step: give the site a root page that opens the article.

Standard library only, so Quarto's own Python can run it; the pandoc fallback runs the same
script. The page redirects with a relative link, so the site works from any folder or server.
"""

import os
import tempfile
from pathlib import Path

site = Path(
    os.environ.get("QUARTO_PROJECT_OUTPUT_DIR") or Path(__file__).resolve().parent.parent / "_site"
)
site.mkdir(parents=True, exist_ok=True)
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Does inverting MNIST's grey levels change how a neural network learns?</title>
<meta http-equiv="refresh" content="0; url=report/index.html">
<link rel="canonical" href="report/index.html">
</head>
<body>
<p><a href="report/index.html">Open the report</a> (<a href="report/index.pdf">PDF</a>).</p>
</body>
</html>
"""
# A temporary file renamed into place: a symlink planted at index.html is replaced, not
# written through.
fd, tmp = tempfile.mkstemp(dir=site, prefix=".index.html.", suffix=".tmp")
try:
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(PAGE)
    os.chmod(tmp, 0o644)
    os.replace(tmp, site / "index.html")
except BaseException:
    Path(tmp).unlink(missing_ok=True)
    raise
