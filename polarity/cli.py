"""The `polarity` command: run experiments, build the report sources, render them."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from polarity import PolarityError, paths, project

# experiments.PROFILES, spelt out: the parser is built before the project, and so its
# experiments, is found (tests/test_sections.py checks the two agree).
PROFILES = ("smoke", "quick", "full")


def _results_dir(args) -> Path:
    if args.results is not None:
        return args.results
    return paths.results_dir(getattr(args, "profile", None) or "full")


def port_argument(text: str) -> int:
    """A TCP port: 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0 to 65535")
    return port


def positive_int(text: str) -> int:
    """A count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a count of at least 1")
    return value


def path_argument(text: str) -> Path:
    """A path option's value: an empty string is a mistake, not the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "an empty path is not a folder; leave the option out for the default"
        )
    if "\0" in text:
        raise argparse.ArgumentTypeError("a path cannot hold a NUL character")
    return Path(text)


def say(text: str) -> None:
    """Print a progress line; a closed stdout (`| head -1`) must not stop the work, so the
    rest of the lines go nowhere."""
    try:
        print(_printable(text), flush=True)
    except (BrokenPipeError, OSError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def _printable(text: str, stream=None) -> str:
    """Text the stream's encoding can take (an ASCII-only terminal too): paths with
    non-UTF-8 bytes show them as \\xNN, other characters it cannot show as \\uNNNN."""
    try:  # bytes a path held undecoded come back as themselves, then show as \\xNN
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def cmd_run(args) -> None:
    import experiments
    from polarity import data
    from polarity.processes import default_workers
    from polarity.runner import check_backend, check_profile, run_experiments

    check_profile(args.profile)
    names = args.experiment or list(experiments.NAMES)
    for name in names:  # unknown names fail before anything is written
        if name not in experiments.NAMES:
            experiments.load(name)
    if args.data_dir is not None:  # the explicit flag wins over a stale $POLARITY_DATA_DIR
        os.environ.pop("POLARITY_DATA_DIR", None)
    data.candidate_dirs("mnist", args.data_dir)  # a named folder that is not there: one line, now
    check_backend()
    signal.signal(signal.SIGTERM, _interrupted)  # a stopped run stops its training processes
    jobs = args.jobs or default_workers()
    outcomes = run_experiments(
        names, args.profile, args.data_dir, _results_dir(args), args.force, jobs
    )
    for outcome in outcomes:
        if outcome.skipped:
            say(f"{outcome.name}: skipped, {_shown(outcome.path)} is current (--force reruns it)")
        else:
            say(f"{outcome.name}: ran because {'; '.join(outcome.reasons)}")
            say(
                f"{outcome.name}: {args.profile} profile done in {outcome.seconds:.1f} s "
                f"-> {_shown(outcome.path)}"
            )


def cmd_build(args) -> None:
    from polarity.files import folder_lock
    from polarity.results import read_results

    results_dir = _results_dir(args)
    report_dir = getattr(args, "report_dir", None)
    report_dir = report_dir if report_dir is not None else paths.REPORT
    # The folder's lock (the build takes it again, within this hold) and the results are
    # checked before the report's libraries load (2 s), so a refusal is one line at once;
    # the build reads the results again, without checking their schema twice.
    with folder_lock(report_dir):
        read_results(results_dir)
        from polarity.article import build

        built = build(results_dir, report_dir, paths.TEMPLATES)
    say(
        f"built {_shown(built.article)} and {len(built.figures)} figures from {_shown(results_dir)}"
    )


def cmd_render(args) -> None:
    from polarity.render import render

    rendered = render(
        paths.ROOT, _results_dir(args) if args.results is not None else None, args.renderer
    )
    if rendered.renderer != "quarto":
        import pypandoc
        import typst

        from polarity.render import quarto_path

        why = "as --renderer fallback asks" if quarto_path() else "Quarto is not on PATH"
        _error_line(
            f"notice: {why}; rendered with the fallback, pandoc "
            f"{pypandoc.get_pandoc_version()} and Typst {getattr(typst, '__version__', '?')}"
        )
    say(f"rendered with {rendered.renderer}: {_shown(rendered.html)} and {_shown(rendered.pdf)}")


def cmd_report(args) -> None:
    cmd_run(args)
    cmd_build(args)
    if args.results is None:  # render checks the build against the results it came from
        args.results = _results_dir(args)
    cmd_render(args)


def cmd_preview(args) -> None:
    from polarity.preview import Preview

    signal.signal(signal.SIGTERM, _interrupted)  # a stopped preview closes its port too
    preview = Preview(paths.ROOT, _results_dir(args), args.renderer, args.port)
    try:
        preview.serve_forever()
    except KeyboardInterrupt:
        print("preview: stopped", file=sys.stderr)


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage mistakes get one line naming the option and where to look, not a usage dump."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    main = OneLineErrorParser(
        prog="polarity",
        description="Does inverting MNIST's grey levels change how a neural network learns? "
        "Run the experiments, build the report sources, render the site and PDF.",
    )
    main.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    main.add_argument(
        "--project",
        metavar="DIR",
        help="the project checkout (default: the nearest folder at or above the working "
        "directory that holds _quarto.yml)",
    )
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_run_options(p):
        p.add_argument(
            "--profile",
            choices=PROFILES,
            default="quick",
            help="smoke: seconds, for tests; quick: the default report (a few minutes); "
            "full: the results of record (default: quick)",
        )
        p.add_argument(
            "--experiment",
            action="append",
            metavar="NAME",
            help="run only this experiment (repeatable; default: all)",
        )
        p.add_argument(
            "--force",
            action="store_true",
            help="rerun even when a current result exists (default: reuse it)",
        )
        p.add_argument(
            "--jobs",
            type=positive_int,
            metavar="N",
            help="experiments trained at once, each in a process of its own (default: one "
            "per core, at most 4; 1 trains them one after another in this process)",
        )
        p.add_argument(
            "--data-dir",
            metavar="DIR",
            type=path_argument,
            help="folder holding mnist/ and fashion-mnist/ IDX files "
            "(default: $POLARITY_DATA_DIR, ../shared/data, system packages, download)",
        )

    def add_results_option(p, default_text):
        p.add_argument(
            "--results",
            metavar="DIR",
            type=path_argument,
            help=f"results folder (default: {default_text})",
        )

    p = sub.add_parser(
        "run",
        help="train experiments and write report/results JSON",
        description="Train experiments and write one results JSON per experiment. "
        "The full profile writes report/results/ (the results of record); "
        "other profiles write build/results/<profile>/.",
    )
    add_run_options(p)
    add_results_option(p, "by profile")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "build",
        help="draw figures and write report/index.qmd from results",
        description="Draw the figures and generate report/index.qmd from results JSON. "
        "Never trains.",
    )
    add_results_option(p, "report/results, the results of record")
    p.add_argument(
        "--report-dir",
        metavar="DIR",
        type=path_argument,
        help="where to write the sources (default: report/)",
    )
    p.set_defaults(func=cmd_build)

    p = sub.add_parser(
        "render",
        help="render report/index.qmd to _site/ (HTML and PDF)",
        description="Render the built sources to _site/report/index.html and index.pdf "
        "with Quarto if it is on PATH, else with pandoc and Typst.",
    )
    p.add_argument(
        "--renderer",
        choices=("auto", "quarto", "fallback"),
        default="auto",
        help="auto: Quarto when on PATH, else the pandoc+Typst fallback (default)",
    )
    add_results_option(
        p,
        "report/results; Quarto's pre-render rebuilds from it, the fallback renders the "
        "finished build and refuses one made from other results",
    )
    p.set_defaults(func=cmd_render)

    p = sub.add_parser(
        "report",
        help="run, build and render in one go",
        description="Train the profile's experiments, then build and render the report.",
    )
    add_run_options(p)
    add_results_option(p, "by profile")
    p.add_argument("--renderer", choices=("auto", "quarto", "fallback"), default="auto")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "preview",
        help="serve _site/ on localhost, rebuilding and reloading on every change",
        description="Build and render, serve _site/ on 127.0.0.1, and rebuild, re-render and "
        "reload the page whenever a template, a results file or the report code changes.",
    )
    p.add_argument(
        "--port",
        type=port_argument,
        default=4848,
        help="port on 127.0.0.1 (0: any free one; default 4848)",
    )
    p.add_argument("--renderer", choices=("auto", "quarto", "fallback"), default="auto")
    add_results_option(p, "report/results, the results of record")
    p.set_defaults(func=cmd_preview)
    return main


def program(argv: list[str] | None = None) -> int:
    """The `polarity` command as a process of its own (its console script, `python -m
    polarity`): `main`, once the process has the thread settings its profile trains under
    (polarity.processes.training_threads). Set here, before anything loads NumPy or
    TensorFlow, they let this process train without starting another for it."""
    from polarity.processes import training_threads

    args = parser().parse_args(argv)
    if args.func in (cmd_run, cmd_report):
        os.environ.update(training_threads(args.profile))
    return _dispatch(args)


def main(argv: list[str] | None = None) -> int:
    return _dispatch(parser().parse_args(argv))


def _dispatch(args) -> int:
    """Run the parsed command; every error as one line and an exit status."""
    try:
        project.select(args.project)
        args.func(args)
    except PolarityError as exc:
        if args.debug:
            raise
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error_line(
            "interrupted; finished results and the last finished build and render are kept, "
            "nothing partial was published"
        )
        return 130
    except OSError as exc:
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or type(exc).__name__}")
        return 2
    except Exception as exc:
        if args.debug:
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
        return 1
    return 0


MAX_ERROR = 500


def _error(message: str) -> None:
    """Every error as one line, at most MAX_ERROR characters."""
    line = " ".join(message.split())
    if len(line) > MAX_ERROR:
        line = line[: MAX_ERROR - 1] + "…"
    _error_line(f"error: {line}")


def _error_line(line: str) -> None:
    try:
        print(_printable(line, sys.stderr), file=sys.stderr)
    except OSError:
        pass
