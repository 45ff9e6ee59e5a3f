"""Benchmark `gan-lab grade`: a class of Lab01 submissions graded with and without the sandbox.

Targets: 30 submissions with --jobs 2 in at most 120 s on 2 CPU cores (sandboxed), and a sandbox /
no-sandbox time ratio of at most 1.15, measured in the same run. The class is made from the
reference: two in three correct, the rest with one exercise broken.

    python bench/bench_grading.py [--students 30] [--jobs 2] [--repeats 1]
"""

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from grading_helpers import SOLUTIONS, submission, write  # noqa: E402

from gan_lab.grading.grade import grade_lab  # noqa: E402

BROKEN = {"sample_noise": lambda source: source.replace("keras.random.normal", "keras.random.uniform")}


def timed_grading(folder, jobs, sandbox):
    """Grade the class once; return (seconds, results)."""
    out = Path(tempfile.mkdtemp(dir=folder))
    start = time.perf_counter()
    results = grade_lab([folder / "class"], "lab01", out=out, jobs=jobs, solutions=SOLUTIONS, sandbox=sandbox,
                        stdout=io.StringIO(), stderr=io.StringIO())
    return time.perf_counter() - start, results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of each kind (median kept)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "class").mkdir()
        for number in range(arguments.students):
            write(folder / "class", f"student{number:02d}", submission(change=BROKEN if number % 3 == 2 else None))
        times = {True: [], False: []}
        for _ in range(arguments.repeats):
            for sandbox in (True, False):
                seconds, results = timed_grading(folder, arguments.jobs, sandbox)
                times[sandbox].append(seconds)
                totals = [result.total() for result in results]
                kind = "sandbox" if sandbox else "no sandbox"
                print(f"{kind}: {len(results)} Lab01 submissions with --jobs {arguments.jobs} in {seconds:.0f} s "
                      f"({seconds / len(results):.1f} s each); totals: {totals.count(2)} with 2/2, "
                      f"{totals.count(1)} with 1/2; statuses: {sorted({result.status for result in results})}",
                      flush=True)
    sandboxed, plain = statistics.median(times[True]), statistics.median(times[False])
    print(f"sandboxed {sandboxed:.0f} s (target: at most 120 s for 30), without sandbox {plain:.0f} s; "
          f"ratio {sandboxed / plain:.2f} (target: at most 1.15)")
