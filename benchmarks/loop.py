"""The fast loop: the waits every user and contributor knows, timed as they meet them, each
printed beside its target (the fast-loop issue's table).

By default each step runs in a fresh clone of HEAD beside this checkout's `shared/` folder, as
CI sees it: `make venv` and `make quarto` first (set-up, not timed), then each step, so no
cache of this checkout flatters a time. `--here` times the steps in this checkout instead,
with whatever it has already trained or built (a contributor's second run).

    .venv/bin/python -m benchmarks.loop                  # report, test-fast, test, rebuild
    .venv/bin/python -m benchmarks.loop --steps report test-fast
    .venv/bin/python -m benchmarks.loop --steps ci       # .ci/run itself (needs root for apt)

The times are written to build/bench/loop.json as well. Quarto is used where it is on PATH
or built in build/quarto, as `make report` and `make test` use it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from polarity.results import cpu_description

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Step:
    name: str
    command: tuple[str, ...]
    target_s: float
    what: str


STEPS = {
    "report": Step(
        "make report",
        ("make", "report"),
        120,
        "after make venv: train the quick profile, build, render HTML + PDF",
    ),
    "test-fast": Step("make test-fast", ("make", "test-fast"), 45, "the suite without slow tests"),
    "test": Step("make test", ("make", "test"), 360, "every render test under both renderers"),
    "rebuild": Step(
        "make report-of-record",
        ("make", "report-of-record"),
        120,
        "build and render from the committed results, no training",
    ),
    "ci": Step(".ci/run", ("bash", ".ci/run"), 720, "installs and Quarto build included"),
}
DEFAULT = ("report", "test-fast", "test", "rebuild")


# A fixed piece of work on one core, NumPy and the interpreter both, timed before each step and
# after the last. These virtual machines drift in speed by a quarter within an hour; two
# benchmark runs compare fairly only where their reference times agree.
REFERENCE_WORK = """
import time
import numpy as np
a = np.random.default_rng(0).standard_normal((1000, 1000), dtype=np.float32)
began = time.perf_counter()
for _ in range(20):
    a @ a
total = 0
for i in range(3_000_000):
    total += i * i
print(time.perf_counter() - began)
"""


def reference_seconds() -> float:
    """How long REFERENCE_WORK takes now, in a process of its own on one thread."""
    one_thread = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE_WORK],
        env={**os.environ, **one_thread},
        capture_output=True,
        text=True,
        check=True,
    )
    return round(float(done.stdout), 3)


@dataclass
class Timing:
    step: str
    seconds: float
    target_s: float
    exit_status: int
    where: str
    reference_before_s: float  # REFERENCE_WORK just before the step

    @property
    def verdict(self) -> str:
        if self.exit_status != 0:
            return f"FAILED (exit {self.exit_status})"
        return "within target" if self.seconds <= self.target_s else "OVER target"


def fresh_clone(parent: Path) -> Path:
    """HEAD cloned beside a link to this checkout's shared/ folder (data, Quarto's source),
    the layout the Makefile and the tests expect; its venv and Quarto made before timing."""
    (parent / "shared").symlink_to(ROOT.parent / "shared")
    clone = parent / "main"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run(["make", "venv", "quarto"], cwd=clone, check=True, stdout=subprocess.DEVNULL)
    return clone


def environment(where: Path) -> dict[str, str]:
    env = dict(os.environ)
    quarto_bin = where / "build" / "quarto" / "bin"
    if (quarto_bin / "quarto").exists():
        env["PATH"] = f"{quarto_bin}{os.pathsep}{env['PATH']}"
    return env


def time_step(step: Step, where: Path, log: Path) -> Timing:
    reference = reference_seconds()
    with log.open("w") as out:
        began = time.perf_counter()
        # A session of its own, so that a stopped benchmark stops what make started too.
        child = subprocess.Popen(
            step.command, cwd=where, env=environment(where), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            status = child.wait()
        except BaseException:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait()
            raise
        seconds = time.perf_counter() - began
    return Timing(step.name, round(seconds, 1), step.target_s, status, str(where), reference)


def minutes(seconds: float) -> str:
    return (
        f"{int(seconds // 60)} min {seconds % 60:04.1f} s" if seconds >= 60 else f"{seconds:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", nargs="+", choices=list(STEPS), default=list(DEFAULT))
    parser.add_argument("--here", action="store_true", help="time in this checkout, warm")
    args = parser.parse_args(argv)
    # Stopped with SIGTERM, clean up as on Ctrl-C: the step's processes and the fresh clone.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="polarity-loop-"))
    try:
        where = ROOT if args.here else fresh_clone(scratch)
        timings = []
        for key in args.steps:
            step = STEPS[key]
            print(f"{step.name}: {step.what} ...", flush=True)
            timing = time_step(step, where, out / f"loop-{key}.log")
            timings.append(timing)
            print(
                f"  {minutes(timing.seconds)} (target {minutes(step.target_s)}): {timing.verdict}",
                flush=True,
            )
        reference_after = reference_seconds()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    record = {
        "where": "this checkout" if args.here else "a fresh clone of HEAD",
        "cores": os.cpu_count(),
        # Machines of one kind differ in CPU (an Intel Xeon took 7 min 09 s for make test
        # where an AMD EPYC took 3 min 51 s): name it beside the times.
        "cpu": cpu_description(),
        "timings": [asdict(t) | {"verdict": t.verdict} for t in timings],
        "reference_after_s": reference_after,
    }
    (out / "loop.json").write_text(json.dumps(record, indent=1) + "\n")
    width = max(len(t.step) for t in timings)
    print(f"\n{record['where']}, {record['cpu']}:")
    for t in timings:
        took, target = minutes(t.seconds), minutes(t.target_s)
        print(
            f"  {t.step:<{width}}  {took:>13}  target {target:>11}  {t.verdict:<14}"
            f"  reference work before it: {t.reference_before_s:.2f} s"
        )
    print(
        f"  reference work after the last step: {reference_after:.2f} s (one core, NumPy and "
        "Python; compare runs only where these agree)"
    )
    return 0 if all(t.exit_status == 0 for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
