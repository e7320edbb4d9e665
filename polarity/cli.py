"""The `polarity` command: run experiments, build the report sources, render them."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from polarity import PolarityError, paths, project

PROFILES = ("smoke", "quick", "full")


def _results_dir(args) -> Path:
    if args.results:
        return Path(args.results)
    return paths.results_dir(getattr(args, "profile", None) or "full")


def cmd_run(args) -> None:
    import experiments
    from polarity.backend import import_keras_quietly
    from polarity.runner import check_profile, run_experiment

    check_profile(args.profile)
    import_keras_quietly()
    names = args.experiment or list(experiments.NAMES)
    for name in names:
        experiments.load(name)  # unknown names fail before anything trains
    for name in names:
        start = time.perf_counter()
        outcome = run_experiment(name, args.profile, args.data_dir, _results_dir(args), args.force)
        if outcome.skipped:
            print(f"{name}: skipped, {_shown(outcome.path)} is current (--force reruns it)")
        else:
            print(f"{name}: ran because {'; '.join(outcome.reasons)}")
            print(
                f"{name}: {args.profile} profile done in {time.perf_counter() - start:.1f} s "
                f"-> {_shown(outcome.path)}"
            )


def cmd_build(args) -> None:
    from polarity.article import build

    results_dir = _results_dir(args)
    report_dir = getattr(args, "report_dir", None)
    built = build(results_dir, Path(report_dir) if report_dir else paths.REPORT, paths.TEMPLATES)
    print(
        f"built {_shown(built.article)} and {len(built.figures)} figures from {_shown(results_dir)}"
    )


def cmd_render(args) -> None:
    from polarity.render import render

    rendered = render(paths.ROOT, _results_dir(args), args.renderer)
    if rendered.renderer != "quarto":
        import pypandoc
        import typst

        print(
            f"notice: Quarto is not on PATH; rendered with the fallback, pandoc "
            f"{pypandoc.get_pandoc_version()} and Typst {getattr(typst, '__version__', '?')}",
            file=sys.stderr,
        )
    print(f"rendered with {rendered.renderer}: {_shown(rendered.html)} and {_shown(rendered.pdf)}")


def cmd_report(args) -> None:
    cmd_run(args)
    cmd_build(args)
    cmd_render(args)


def cmd_preview(args) -> None:
    from polarity.preview import Preview

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # a stopped preview closes its port too
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
            "--data-dir",
            metavar="DIR",
            help="folder holding mnist/ and fashion-mnist/ IDX files "
            "(default: $POLARITY_DATA_DIR, ../shared/data, system packages, download)",
        )

    def add_results_option(p, default_text):
        p.add_argument("--results", metavar="DIR", help=f"results folder (default: {default_text})")

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
        "--report-dir", metavar="DIR", help="where to write the sources (default: report/)"
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
    add_results_option(p, "report/results; Quarto's pre-render rebuilds from it")
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
        "--port", type=int, default=4848, help="port on 127.0.0.1 (0: any free one; default 4848)"
    )
    p.add_argument("--renderer", choices=("auto", "quarto", "fallback"), default="auto")
    add_results_option(p, "report/results, the results of record")
    p.set_defaults(func=cmd_preview)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        project.select(args.project)
        args.func(args)
    except PolarityError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted; finished results are kept, nothing partial was written", file=sys.stderr
        )
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    return 0
