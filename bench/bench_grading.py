"""Benchmark `gan-lab grade`: wall-clock time to grade a class of Lab01 submissions.

Target: 30 submissions of Lab01 graded in under 5 minutes on 2 CPU cores with --jobs 2. The class
is made from the reference: two in three correct, the rest with one exercise broken.

    python bench/bench_grading.py [--students 30] [--jobs 2]
"""

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from grading_helpers import SOLUTIONS, submission, write  # noqa: E402

BROKEN = {"sample_noise": lambda source: source.replace("keras.random.normal", "keras.random.uniform")}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "class").mkdir()
        for number in range(arguments.students):
            write(folder / "class", f"student{number:02d}", submission(change=BROKEN if number % 3 == 2 else None))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gan_lab", "grade", str(folder / "class"), "--lab", "lab01",
                        "--out", str(folder / "grades"), "--jobs", str(arguments.jobs),
                        "--solutions", str(SOLUTIONS)], check=True, capture_output=True)
        seconds = time.perf_counter() - start
        with open(folder / "grades" / "gradebook.csv", newline="") as file:
            rows = list(csv.DictReader(file))
    totals = [row["total"] for row in rows]
    print(f"{len(rows)} Lab01 submissions graded with --jobs {arguments.jobs} in {seconds:.0f} s "
          f"({seconds / len(rows):.1f} s per submission; target: 30 in under 300 s)")
    print(f"totals: {totals.count('2')} with 2/2, {totals.count('1')} with 1/2, "
          f"statuses: {sorted(set(row['status'] for row in rows))}")
