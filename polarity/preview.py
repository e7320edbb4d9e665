"""`polarity preview`: rebuild and re-render on every change, serve _site/ on localhost, and
reload the open page.

Watched: the templates, the results files, CITATION.cff, the bibliography, the report's
stylesheet and scripts, _quarto.yml, and the polarity package's own code, filters and page
template. A change runs `polarity build` and `polarity render` in a fresh Python process, so
edited code takes effect too. The server binds to 127.0.0.1 only; HTML pages it serves get a
small script that polls `/__preview/version` and reloads when a rebuild finishes.

Loopback is not a wall against the browser itself: a page elsewhere can point a host name
at 127.0.0.1 (DNS rebinding), so requests that do not name this server in their Host header
are refused. Only files inside _site/ are served (a symlink out of it is not followed).
"""

from __future__ import annotations

import errno
import functools
import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

from polarity import PolarityError, project

VERSION_PATH = "/__preview/version"
RELOAD_SCRIPT = (
    "<script>(function(){var seen=null;setInterval(function(){fetch('"
    + VERSION_PATH
    + "',{cache:'no-store'}).then(function(r){return r.json()}).then(function(s){"
    "if(seen!==null&&s.version!==seen)location.reload();seen=s.version})"
    ".catch(function(){})},1000)})();</script>"
)


def watched_files(root: Path, results_dir: Path) -> dict[Path, float]:
    """Every file whose change should rebuild the report, with its modification time."""
    files = [
        root / "_quarto.yml",
        root / "CITATION.cff",
        *root.joinpath("templates").rglob("*.j2"),
        *Path(results_dir).glob("*.json"),
        *(root / "report" / name for name in ("references.bib", "style.css")),
        *(root / "report" / name for name in ("prerender.py", "postrender.py")),
    ]
    package = project.PACKAGE_PARENT / "polarity"
    for pattern in ("*.py", "*.lua", "*.css", "*.html", "schemas/*.json"):
        files += package.glob(pattern)
    stamps = {}
    for path in files:
        try:
            stamps[path] = path.stat().st_mtime_ns
        except OSError:
            continue
    return stamps


class _Server(http.server.ThreadingHTTPServer):
    # A page loads its stylesheet, scripts and figures at once; the default backlog of 5
    # drops connections in such a burst.
    request_queue_size = 128
    daemon_threads = True


class Preview:
    def __init__(self, root: Path, results_dir: Path, renderer: str = "auto", port: int = 4848):
        self.root = Path(root)
        self.results_dir = Path(results_dir)
        self.renderer = renderer
        self.version = 0
        self.error: str | None = None
        self.stopping = threading.Event()
        handler = functools.partial(_Handler, preview=self, directory=str(self.root / "_site"))
        try:
            self.server = _Server(("127.0.0.1", port), handler)
        except OSError as exc:
            why = (
                "it is in use; choose another --port (0: any free one)"
                if exc.errno == errno.EADDRINUSE
                else (exc.strerror or type(exc).__name__)
            )
            raise PolarityError(f"cannot listen on 127.0.0.1 port {port}: {why}") from None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/report/index.html"

    def rebuild(self) -> bool:
        """Build and render in a fresh process; on failure keep the last good site."""
        base = [sys.executable, "-m", "polarity", "--project", str(self.root)]
        steps = [
            [*base, "build", "--results", str(self.results_dir)],
            [*base, "render", "--results", str(self.results_dir), "--renderer", self.renderer],
        ]
        # Run from the folder that holds this polarity package: `python -m` puts the working
        # directory first on sys.path, and a project's polarity/ folder of filters would
        # shadow the package there.
        here = Path(__file__).resolve().parent.parent
        for command in steps:
            done = subprocess.run(command, capture_output=True, text=True, cwd=here)
            if done.returncode != 0:
                self.error = (done.stderr or done.stdout).strip() or f"exit {done.returncode}"
                print(f"preview: {command[5]} failed: {self.error}", file=sys.stderr, flush=True)
                return False
        self.error = None
        self.version += 1
        print(f"preview: rebuilt (version {self.version})", flush=True)
        return True

    def watch(self, seen: dict[Path, float], interval: float = 0.5) -> None:
        while not self.stopping.wait(interval):
            now = watched_files(self.root, self.results_dir)
            if now != seen:
                changed = sorted(p.name for p in set(now) | set(seen) if now.get(p) != seen.get(p))
                print(f"preview: changed {', '.join(changed[:3])}; rebuilding", flush=True)
                seen = now  # an edit made during the rebuild triggers the next one
                self.rebuild()

    def serve_forever(self) -> None:
        seen = watched_files(self.root, self.results_dir)
        self.rebuild()
        server = threading.Thread(target=self.server.serve_forever, daemon=True)
        server.start()
        print(f"preview: serving {self.url} (Ctrl+C stops)", flush=True)
        try:
            self.watch(seen)
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, preview: Preview, **kwargs):
        self.preview = preview
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args):  # quiet: the preview prints its own lines
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _host_allowed(self) -> bool:
        """Whether the Host header names this server: 127.0.0.1 or localhost, on its port."""
        host = (self.headers.get("Host") or "").strip().lower()
        port = str(self.server.server_address[1])
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _inside_site(self, path: str) -> bool:
        """Whether the file a request names, symlinks resolved, is inside _site/."""
        site = Path(self.directory).resolve()
        return Path(self.translate_path(path)).resolve().is_relative_to(site)

    def do_HEAD(self):
        if not self._host_allowed():
            return self.send_error(403, "unexpected Host header")
        if not self._inside_site(self.path.split("?", 1)[0]):
            return self.send_error(404)
        return super().do_HEAD()

    def do_GET(self):
        if not self._host_allowed():
            return self.send_error(403, "unexpected Host header")
        path = self.path.split("?", 1)[0]
        if path == VERSION_PATH:
            error = self.preview.error
            if error:  # the project's own path is no one else's business
                error = error.replace(str(self.preview.root.resolve()), "<project>")
            body = json.dumps({"version": self.preview.version, "error": error})
            return self._send(body.encode(), "application/json")
        if not self._inside_site(path):
            return self.send_error(404)
        target = Path(self.translate_path(path))
        if target.is_dir():
            target = target / "index.html"
        if target.suffix == ".html" and target.is_file():
            try:
                html = target.read_bytes()
            except OSError:
                return self.send_error(404)
            # Bytes, not text: a page that is not UTF-8 is served as it is, script added.
            marker = b"</body>"
            script = RELOAD_SCRIPT.encode() + marker
            html = html.replace(marker, script) if marker in html else html
            return self._send(html, "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
