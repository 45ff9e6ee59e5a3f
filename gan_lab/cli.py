"""The `gan-lab` command (also `python -m gan_lab`): make-labs, validate, execute, train, grade."""

import argparse
import os
import sys
from pathlib import Path


def _existing_dir(path, what, flag):
    path = Path(path)
    if not path.is_dir():
        raise SystemExit(f"gan-lab: no {what} folder at {path}: run from the kit's root or pass {flag} DIR")
    return path


def cmd_make_labs(args):
    """Write labs/ from solutions/, or with --check list the stale labs and fail."""
    from gan_lab.make_labs import make_labs, stale_labs
    from gan_lab.notebook_io import NotebookError

    solutions = _existing_dir(args.solutions, "solutions", "--solutions")
    try:
        if args.check:
            stale = stale_labs(solutions, args.labs)
            for path, reason in stale:
                print(f"stale: {path} ({reason})")
            if stale:
                print(f"{len(stale)} lab(s) out of date: run `gan-lab make-labs`", file=sys.stderr)
                return 1
            print(f"labs in {args.labs} are up to date with {solutions}")
            return 0
        for path, action in make_labs(solutions, args.labs):
            print(f"{path}: {action}")
        return 0
    except NotebookError as error:
        raise SystemExit(f"gan-lab make-labs: {error}") from None


def cmd_validate(args):
    """Run nbval over solution notebooks with the kit's sanitiser and settings."""
    from gan_lab.validation import validate

    paths = args.paths or [_existing_dir("solutions", "solutions", "a path")]
    for path in paths:
        if not Path(path).exists():
            raise SystemExit(f"gan-lab validate: {path} does not exist")
    if args.full:
        os.environ["GAN_LAB_FAST"] = "0"
    return validate(paths, args.pytest_args)


def cmd_execute(args):
    """Re-run notebooks and store their outputs in place (fast mode unless --full)."""
    from gan_lab.validation import execute_in_place

    os.environ["GAN_LAB_FAST"] = "0" if args.full else os.environ.get("GAN_LAB_FAST", "1")
    for path in args.notebooks:
        if not Path(path).is_file() or Path(path).suffix != ".ipynb":
            raise SystemExit(f"gan-lab execute: {path} is not a notebook file")
        try:
            execute_in_place(path)
        except RuntimeError as error:
            raise SystemExit(f"gan-lab execute: {error}") from None
        print(f"{path}: outputs stored")
    return 0


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def cmd_train(args):
    """Train a reference GAN from the command line and write its outputs and metrics."""
    from gan_lab.reference import train_reference

    try:
        metrics = train_reference(args.model, args.epochs, args.out, resume=args.resume, seed=args.seed,
                                  solutions=args.solutions, mixed_precision=args.mixed_precision)
    except (OSError, ValueError) as error:
        raise SystemExit(f"gan-lab train: {error}") from None
    histogram = " ".join(f"{100 * share:.0f}%" for share in metrics["class_histogram"])
    print(f"MNIST score {metrics['mnist_score']:.2f}, Frechet distance "
          f"{metrics['frechet_distance']:.2f}, classes 0-9: {histogram}")
    print(f"samples, GIF, losses.png, checkpoint/ and metrics.json are in {args.out}")
    return 0


def cmd_grade(args):
    """Grade submissions of one lab with nbval; write gradebook.csv and feedback/<student>.md."""
    from gan_lab.grading.grade import GradingError, grade_lab

    try:
        grade_lab(args.submissions, args.lab, out=args.out, jobs=args.jobs, cell_timeout=args.cell_timeout,
                  solutions=args.solutions, sandbox=not args.no_sandbox)
    except GradingError as error:
        raise SystemExit(f"gan-lab grade: {error}") from None
    return 0


def build_parser():
    """The argument parser with one sub-parser per command."""
    from gan_lab.grading import CELL_TIMEOUT_S

    parser = argparse.ArgumentParser(prog="gan-lab", description="Tools for the gan-lab course kit.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make = commands.add_parser("make-labs", help="generate student labs/ from solutions/",
                               description="Generate student notebooks in labs/ from solutions/.")
    make.add_argument("--check", action="store_true", help="only report stale labs (exit 1 if any)")
    make.add_argument("--solutions", default="solutions", help="solution notebooks (default: solutions)")
    make.add_argument("--labs", default="labs", help="where student notebooks go (default: labs)")
    make.set_defaults(run=cmd_make_labs)

    check = commands.add_parser("validate", help="run nbval over the solution notebooks",
                                description="Run the solution notebooks with nbval and compare outputs.")
    check.add_argument("paths", nargs="*", help="notebooks or folders (default: solutions)")
    check.add_argument("--full", action="store_true", help="turn fast mode off (full training)")
    check.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[],
                       help="anything after this goes to pytest, e.g. --pytest-args -x -v")
    check.set_defaults(run=cmd_validate)

    execute = commands.add_parser("execute", help="re-run notebooks and store their outputs",
                                  description="Re-run notebooks top to bottom and store fresh outputs.")
    execute.add_argument("notebooks", nargs="+", help="notebook files to re-run in place")
    execute.add_argument("--full", action="store_true", help="turn fast mode off (full training)")
    execute.set_defaults(run=cmd_execute)
    train = commands.add_parser("train", help="train a reference GAN on MNIST (headless check)",
                                description="Train a reference GAN on MNIST and write samples, "
                                "a GIF, a loss plot, checkpoints and metrics.json to --out.")
    train.add_argument("--model", choices=["mlp", "dcgan"], default="mlp",
                       help="which reference GAN: mlp (Lab03) or dcgan (Lab04)")
    train.add_argument("--epochs", type=_positive_int, default=30, help="epochs in all (default 30)")
    train.add_argument("--out", required=True, help="output folder (created if needed)")
    train.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--solutions", help="solution notebooks folder (default: ./solutions or the kit's)")
    train.add_argument("--mixed-precision", action="store_true",
                       help="float16 compute with loss scaling: faster on recent GPUs, slower on CPUs")
    train.set_defaults(run=cmd_train)

    grade = commands.add_parser("grade", help="grade student submissions of a lab with nbval",
                                description="Grade submissions against the lab's solution: a gradebook "
                                "CSV and one feedback file per student.")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="a student's notebook or folder (or a folder of students' notebooks)")
    grade.add_argument("--lab", required=True, help="which lab, e.g. lab01 (a solution notebook's name)")
    grade.add_argument("--out", default="grades", help="where gradebook.csv and feedback/ go (default grades)")
    grade.add_argument("--jobs", type=_positive_int, default=1, help="submissions graded at once (default 1)")
    grade.add_argument("--cell-timeout", type=_positive_int, default=CELL_TIMEOUT_S,
                       help=f"seconds a cell may run before it is stopped (default {CELL_TIMEOUT_S})")
    grade.add_argument("--solutions", help="solution notebooks folder (default: ./solutions or the kit's)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade without the bubblewrap sandbox (only for trusted work; every row says so)")
    grade.set_defaults(run=cmd_grade)
    return parser


def main(argv=None):
    """Entry point of the `gan-lab` console script."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
