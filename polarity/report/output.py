"""Writing what the sections decide: figure files with their data, provenance and BibTeX,
and tables as CSV. Nothing here knows a result's shape."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import re
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402

from polarity import PolarityError, paths  # noqa: E402
from polarity.files import (  # noqa: E402
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    read_capped,
)
from polarity.processes import default_workers, process_pool  # noqa: E402
from polarity.report.base import FigureSpec, MissingData, TableSpec  # noqa: E402
from polarity.report.scope import inputs_of  # noqa: E402
from polarity.style import RC  # noqa: E402

FORMATS = ("png", "svg", "pdf")
# Fixed metadata: the same data gives byte-identical files.
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


def render_formats(fig: plt.Figure) -> dict[str, bytes]:
    """`fig` as the bytes of every format in FORMATS, all three with one layout."""
    rendered = {}
    for fmt in FORMATS:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=METADATA[fmt])
        rendered[fmt] = buffer.getvalue()
        # The layout the first format computed serves the others: each save would otherwise
        # lay the same figure out again (a third of the drawing time of a grid of panels).
        fig.set_layout_engine("none")
    return rendered


def _write_formats(rendered: dict[str, bytes], stem: Path) -> list[Path]:
    """Write each format's bytes beside `stem`, each atomically; return the paths."""
    written = []
    for fmt, data in rendered.items():
        path = stem.with_suffix(f".{fmt}")
        atomic_write_bytes(path, data)
        written.append(path)
    return written


# Drawn figures are kept by what they are drawn from: drawing is four fifths of a build, and
# a rebuild from the same results (a test, `make report-of-record`, the preview) draws nothing.
# $POLARITY_FIGURE_CACHE names a folder that several projects share (clones and copies of the
# project in the tests, CI's kept caches); the key holds everything a figure is drawn from,
# so sharing is safe.
def _cache_dir() -> Path:
    shared = os.environ.get("POLARITY_FIGURE_CACHE")
    # paths.BUILD is read at each call: the CLI points it at the project it works on.
    return Path(shared) if shared else paths.BUILD / "figure-cache"


def _cache_path(key: str, fmt: str) -> Path:
    return _cache_dir() / f"{key}.{fmt}"


_CACHED_FORMAT_LIMIT = 64 * 1024 * 1024


@cache
def _drawing_code_digest() -> str:
    """Everything a drawing depends on besides its data: this module and every project module
    it imports, transitively (the drawing functions, their style and number formats; found
    as a result's cache key finds them), and the versions of matplotlib and NumPy. An edit
    elsewhere (the article's builder, the CLI) keeps the drawn figures."""
    from polarity.cache import source_files

    digest = hashlib.sha256()
    for module, source in source_files(__name__).items():
        digest.update(module.encode() + b"\0" + source.read_bytes() + b"\0")
    digest.update(f"matplotlib {matplotlib.__version__} numpy {np.__version__}".encode())
    return digest.hexdigest()


def figure_key(spec: FigureSpec, inputs: tuple) -> str:
    """The cache key of one figure: its id, the results it draws, and the drawing code."""
    data = json.dumps([spec.id, inputs, _drawing_code_digest()], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def _cached(key: str) -> dict[str, bytes] | None:
    try:
        return {
            fmt: read_capped(_cache_path(key, fmt), _CACHED_FORMAT_LIMIT, "figure")
            for fmt in FORMATS
        }
    except (OSError, PolarityError):  # absent, or not a plain file: draw it
        return None


def _keep(key: str, rendered: dict[str, bytes]) -> None:
    """Best effort: a cache that cannot be written costs time, never a build."""
    try:
        for fmt, data in rendered.items():
            atomic_write_bytes(_cache_path(key, fmt), data)
    except (OSError, PolarityError):
        pass


def _draw(spec: FigureSpec, inputs: tuple) -> dict[str, bytes]:
    with plt.rc_context(RC):  # the house style, and fixed SVG ids
        fig = spec.draw(*inputs)
        try:
            return render_formats(fig)
        finally:
            plt.close(fig)


def draw_formats(spec: FigureSpec, inputs: tuple) -> dict[str, bytes]:
    """The figure's files, from the cache when these inputs were drawn by this code before."""
    return draw_all([(spec, inputs)])[0]


def draw_all(drawings: list[tuple[FigureSpec, tuple]]) -> list[dict[str, bytes]]:
    """Each figure's files, in order. Those no earlier build kept are drawn in processes of
    their own, one per core (at most four): matplotlib draws on one core, and a cold build
    spends most of its time drawing."""
    keys = [figure_key(spec, inputs) for spec, inputs in drawings]
    found = [_cached(key) for key in keys]
    if None not in found:
        return found
    with _drawing_lock():  # another build drawing the same figures finishes first
        found = [rendered or _cached(key) for rendered, key in zip(found, keys, strict=True)]
        return _draw_missing(drawings, keys, found)


@contextlib.contextmanager
def _drawing_lock():
    """One build at a time draws into the cache, so that two builds of the same results (two
    test workers, a preview beside a build) draw each figure once, not each on half the cores.
    Best effort, as the cache is: a lock that cannot be taken only costs time."""
    lock = _cache_dir() / ".drawing.lock"
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW)
    except OSError:
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _draw_missing(drawings: list, keys: list[str], found: list) -> list[dict[str, bytes]]:
    missing = [i for i, rendered in enumerate(found) if rendered is None]
    workers = min(len(missing), default_workers())
    if workers > 1:
        with process_pool(workers) as pool:
            drawn = list(
                pool.map(_draw_by_id, [(drawings[i][0].id, drawings[i][1]) for i in missing])
            )
    else:
        drawn = [_draw(*drawings[i]) for i in missing]
    for i, rendered in zip(missing, drawn, strict=True):
        _keep(keys[i], rendered)
        found[i] = rendered
    return found


def _draw_by_id(drawing: tuple[str, tuple]) -> dict[str, bytes]:
    """_draw in a drawing process, which finds the spec (its functions) by its id."""
    from polarity.report import FIGURES

    figure_id, inputs = drawing
    (spec,) = [spec for spec in FIGURES if spec.id == figure_id]
    return _draw(spec, inputs)


PROVENANCE_FIELDS = (
    "experiment",
    "results_file",
    "profile",
    "config_hash",
    "git_commit",
    "seeds",
    "packages",
    "hardware",
    "settings",
    "runtime_s",
)


def provenance_of(result: dict, seeds: list) -> dict:
    """What a reader citing a figure needs to know about where its numbers came from."""
    prov = result["provenance"]
    return {
        "experiment": result["experiment"],
        "results_file": f"{result['experiment']}.json",
        "profile": result["profile"],
        "config_hash": result["config_hash"],
        "git_commit": prov["git_commit"],
        "seeds": seeds,
        "packages": {
            "python": prov["python"],
            "keras": prov["keras"],
            prov["backend"]: prov["backend_version"],
            "numpy": prov["numpy"],
            # recorded since SciPy and ml_dtypes joined the cache key
            **{name: prov[name] for name in ("scipy", "ml_dtypes") if name in prov},
        },
        "hardware": prov["device"],
        "settings": prov.get("settings", {}),  # recorded since settings joined the cache key
        "runtime_s": prov["duration_s"],
    }


_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def bibtex_text(text: str) -> str:
    """Text from CITATION.cff inside a BibTeX field: a brace or backslash of its own would
    end the field early (and let it write fields of its own), so each is a LaTeX command."""
    return re.sub(r"[\\{}]", lambda m: _BIBTEX_SPECIAL[m.group()], " ".join(str(text).split()))


def bibtex(spec: FigureSpec, citation: dict, provenance: dict) -> str:
    """A BibTeX entry for citing one figure alone."""
    authors = " and ".join(
        bibtex_text(a.get("name") or f"{a['family-names']}, {a['given-names']}")
        for a in citation["authors"]
    )
    fields = {
        "title": f"{{{spec.title}}}",
        "author": f"{{{authors}}}",
        "year": str(citation["date-released"])[:4],
        "howpublished": f"Figure {spec.id} of the report ``{bibtex_text(citation['title'])}''",
        "version": bibtex_text(citation["version"]),
        "note": (
            f"Results {provenance['results_file']}, config hash "
            f"{provenance['config_hash'][:12]}, commit {(provenance['git_commit'] or '?')[:12]}"
        ),
    }
    if citation.get("url"):
        fields["url"] = f"{citation['url'].rstrip('/')}/report/index.html#{spec.id}"
    key = "polarity-" + spec.id
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@misc{{{key},\n{body}\n}}\n"


def figure_entries(specs: tuple[FigureSpec, ...], results: dict, citation: dict | None) -> list:
    """For every figure whose results are there: its spec, the results it draws, and its
    manifest entry (alt text, files, provenance; the template adds the caption), without
    drawing anything."""
    entries = []
    for spec in specs:
        try:
            envelope, inputs, files_read = inputs_of(results, spec.dataset, spec.experiments)
        except MissingData:
            continue
        written = [*FORMATS, "json", *(["bib"] if citation else [])]
        entry = {
            "id": spec.id,
            "title": spec.title,
            "files": [f"{spec.id}.{ext}" for ext in written],
            "alt": spec.alt(*inputs),
            "inputs": files_read,
            **provenance_of(envelope, inputs[0]["seeds"]),
        }
        entries.append((spec, inputs, entry))
    return entries


def write_figures(entries: list, out_dir: Path, citation: dict | None = None) -> list[dict]:
    """Draw each figure of `figure_entries`; write its files, data and BibTeX, and the
    manifest `figures.json`; return the manifest entries."""
    out_dir = Path(out_dir)
    drawn = draw_all([(spec, inputs) for spec, inputs, _ in entries])
    for (spec, inputs, entry), rendered in zip(entries, drawn, strict=True):
        _write_formats(rendered, out_dir / spec.id)
        provenance = {k: entry[k] for k in PROVENANCE_FIELDS}
        atomic_write_json(
            out_dir / f"{spec.id}.json",
            {"id": spec.id, "data": spec.data(*inputs), "provenance": provenance},
        )
        if citation:
            atomic_write_text(out_dir / f"{spec.id}.bib", bibtex(spec, citation, provenance))
    manifest = [entry for _, _, entry in entries]
    atomic_write_json(out_dir / "figures.json", {"figures": manifest})
    return manifest


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def table_rows(specs: tuple[TableSpec, ...], results: dict) -> dict[str, list[dict]]:
    """Rows of every table whose results are there, by id."""
    return {
        spec.id: spec.rows(results)
        for spec in specs
        if all(name in results for name in spec.experiments)
    }


def write_tables(tables: dict[str, list[dict]], out_dir: Path) -> None:
    """Each table as CSV, `<id>.csv`."""
    for table_id, rows in tables.items():
        atomic_write_text(Path(out_dir) / f"{table_id}.csv", to_csv(rows))
