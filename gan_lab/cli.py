"""The `gan-lab` command (also `python -m gan_lab`): make-labs, release, validate, execute, train, grade, collect,
report."""

import argparse
import os
import sys
from pathlib import Path


def _solutions(args, command):
    """The solutions folder from --solutions, GAN_LAB_SOLUTIONS or gan-lab.toml, or exit in one line."""
    from gan_lab.course_config import CourseConfigError, find_solutions

    try:
        return find_solutions(args.solutions)
    except CourseConfigError as error:
        raise SystemExit(f"gan-lab {command}: {error}") from None


def cmd_make_labs(args):
    """Write labs/ from solutions/, or with --check list the stale labs and fail."""
    from gan_lab.authoring.make_labs import make_labs, stale_labs
    from gan_lab.notebook_io import NotebookError

    solutions = _solutions(args, "make-labs")
    args.labs = args.labs or solutions.parent / "labs"
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
    from gan_lab.authoring.validation import validate

    paths = args.paths or [_solutions(args, "validate")]
    for path in paths:
        if not Path(path).exists():
            raise SystemExit(f"gan-lab validate: {path} does not exist")
    if args.full:
        os.environ["GAN_LAB_FAST"] = "0"
    return validate(paths, args.pytest_args)


def cmd_release(args):
    """Write the students' hand-out: labs, concept notebooks, README, and closed labs' modules."""
    from gan_lab.authoring.release import release
    from gan_lab.notebook_io import NotebookError

    solutions = _solutions(args, "release")
    concepts = Path(args.notebooks) if args.notebooks else solutions.parent / "notebooks"
    try:
        for path, action in release(args.out, solutions, concepts, closed=args.closed):
            print(f"{path}: {action}")
    except (NotebookError, OSError) as error:
        raise SystemExit(f"gan-lab release: {error}") from None
    return 0


def cmd_execute(args):
    """Re-run notebooks and store their outputs in place (fast mode unless --full)."""
    from gan_lab.authoring.validation import CELL_TIMEOUT_S, execute_in_place

    os.environ["GAN_LAB_FAST"] = "0" if args.full else os.environ.get("GAN_LAB_FAST", "1")
    for path in args.notebooks:
        if not Path(path).is_file() or Path(path).suffix != ".ipynb":
            raise SystemExit(f"gan-lab execute: {path} is not a notebook file")
        try:
            execute_in_place(path, timeout=None if args.full else CELL_TIMEOUT_S)  # full mode trains for long
        except RuntimeError as error:
            raise SystemExit(f"gan-lab execute: {error}") from None
        print(f"{path}: outputs stored")
    return 0


def _positive_int(text):
    # ArgumentTypeError, not ValueError: argparse would name this function instead of saying what is wrong.
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def cmd_train(args):
    """Train a reference GAN from the command line and write its outputs and metrics."""
    from gan_lab import quiet_tensorflow_start

    quiet_tensorflow_start()  # before Keras loads: a terminal shows no start-up notices either
    from gan_lab.authoring.reference import train_reference
    from gan_lab.training import earlier_run_files, saved_epoch

    try:
        # Decided here, before the reference GAN is built, and worded with the command's flags.
        saved = saved_epoch(args.out) if args.resume else None
        if saved is not None and saved >= args.epochs:
            print(f"{args.out} already holds {saved} epochs: nothing to train; pass a larger --epochs")
            return 0
        found = earlier_run_files(args.out) if saved is None else []
        if found:
            fix = ("it has no checkpoint, so --resume cannot continue it: pass a fresh --out" if args.resume
                   else "pass --resume to continue it, or a fresh --out")
            raise SystemExit(f"gan-lab train: {args.out} already holds a run ({', '.join(found)}); {fix}")
        metrics = train_reference(args.model, args.epochs, args.out, resume=args.resume, seed=args.seed,
                                  solutions=args.solutions, mixed_precision=args.mixed_precision)
    except (OSError, ValueError) as error:
        raise SystemExit(f"gan-lab train: {error}") from None
    histogram = " ".join(f"{100 * share:.0f}%" for share in metrics["class_histogram"])
    print(f"MNIST score {metrics['mnist_score']:.2f}, Frechet distance "
          f"{metrics['frechet_distance']:.2f}, classes 0-9: {histogram}")
    if "conditional_accuracy" in metrics:
        per_digit = " ".join(f"{100 * share:.0f}%" for share in metrics["per_class_accuracy"])
        print(f"conditional accuracy {100 * metrics['conditional_accuracy']:.1f}% (classified as the digit "
              f"asked for), digits 0-9: {per_digit}")
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


def cmd_collect(args):
    """Copy each student's notebook of one lab from their home into a class folder, with collected.csv."""
    from gan_lab.grading.collect import CollectError, collect_lab

    try:
        collect_lab(args.homes, args.lab, out=args.out, due=args.due, solutions=args.solutions, path=args.path)
    except CollectError as error:
        raise SystemExit(f"gan-lab collect: {error}") from None
    return 0


def cmd_report(args):
    """Write a student's lab-report template 第n次实验-学号-姓名.md with the notebooks' figures, results, answers."""
    from gan_lab.report import ReportError, write_report

    try:
        write_report(args.notebooks, args.id, args.name, out_dir=args.out, lab=args.lab)
    except ReportError as error:
        raise SystemExit(f"gan-lab report: {error}") from None
    return 0


SOLUTIONS_HELP = ("solution notebooks folder (default: $GAN_LAB_SOLUTIONS, then solutions = \"DIR\" in a "
                  "gan-lab.toml here or above, then ./solutions)")


def build_parser():
    """The argument parser with one sub-parser per command."""
    from gan_lab.grading import CELL_TIMEOUT_S

    parser = argparse.ArgumentParser(prog="gan-lab", description="Tools for the gan-lab course kit.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make = commands.add_parser("make-labs", help="generate student labs/ from solutions/",
                               description="Generate student notebooks in labs/ from solutions/.")
    make.add_argument("--check", action="store_true", help="only report stale labs (exit 1 if any)")
    make.add_argument("--solutions", help=SOLUTIONS_HELP)
    make.add_argument("--labs", help="where student notebooks go (default: labs/ beside the solutions)")
    make.set_defaults(run=cmd_make_labs)

    check = commands.add_parser("validate", help="run nbval over the solution notebooks",
                                description="Run the solution notebooks with nbval and compare outputs.")
    check.add_argument("paths", nargs="*", help="notebooks or folders (default: solutions)")
    check.add_argument("--full", action="store_true", help="turn fast mode off (full training)")
    check.add_argument("--solutions", help=SOLUTIONS_HELP + "; validated when no path is given")
    check.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[],
                       help="anything after this goes to pytest, e.g. --pytest-args -x -v")
    check.set_defaults(run=cmd_validate)

    hand_out = commands.add_parser(
        "release", help="write the students' hand-out (no answers in it)",
        description="Write the student hand-out into OUT: README.md, labs/ (answers blanked, hidden tests "
        "removed, check cells locked), notebooks/ (the concept notebooks) and, for each --closed lab, "
        "labs/closed/<lab>.py with that lab's solution code, which later labs then use. Releasing again "
        "adds what is new; a changed file is first kept in OUT/.previous/.")
    hand_out.add_argument("out", metavar="OUT", help="the hand-out folder (created if needed)")
    hand_out.add_argument("--closed", nargs="+", default=[], metavar="LAB",
                          help="labs whose deadline has passed, e.g. lab01 lab02: their solution code is added")
    hand_out.add_argument("--solutions", help=SOLUTIONS_HELP)
    hand_out.add_argument("--notebooks", help="concept notebooks folder (default: notebooks/ beside the solutions)")
    hand_out.set_defaults(run=cmd_release)

    execute = commands.add_parser("execute", help="re-run notebooks and store their outputs",
                                  description="Re-run notebooks top to bottom and store fresh outputs.")
    execute.add_argument("notebooks", nargs="+", help="notebook files to re-run in place")
    execute.add_argument("--full", action="store_true", help="turn fast mode off (full training)")
    execute.set_defaults(run=cmd_execute)
    train = commands.add_parser("train", help="train a reference GAN on MNIST (headless check)",
                                description="Train a reference GAN on MNIST and write samples, "
                                "a GIF, a loss plot, checkpoints and metrics.json to --out.")
    train.add_argument("--model", choices=["mlp", "dcgan", "cgan"], default="mlp",
                       help="which reference GAN: mlp (Lab03), dcgan (Lab04) or cgan (Lab06, conditional)")
    train.add_argument("--epochs", type=_positive_int, default=30, help="epochs in all (default 30)")
    train.add_argument("--out", required=True,
                       help="output folder (created if needed); one that holds an earlier run needs --resume")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its checkpoint (or start fresh if it has none)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--solutions", help=SOLUTIONS_HELP)
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
    grade.add_argument("--solutions", help=SOLUTIONS_HELP)
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade without the bubblewrap sandbox (only for trusted work; every row says so)")
    grade.set_defaults(run=cmd_grade)

    collect = commands.add_parser(
        "collect", help="copy students' notebooks of a lab from their homes, for grading",
        description="Copy each student's notebook of a lab from HOMES/<student>/gan-lab/labs/ into "
        "OUT/<student>/ (read-only, with the student's modification time) and list every student in "
        "OUT/collected.csv; then run `gan-lab grade OUT --lab LAB`. Links inside homes are never "
        "followed. An earlier collection in OUT is kept, renamed to OUT.previous-<time>; an OUT holding "
        "other files is refused.")
    collect.add_argument("homes", nargs="+", metavar="HOMES", help="a folder of students' homes, e.g. /home")
    collect.add_argument("--lab", required=True, help="which lab, e.g. lab01 (a solution notebook's name)")
    collect.add_argument("--out", default="submissions", help="the class folder to write (default submissions)")
    collect.add_argument("--due", help="deadline: an ISO date (its end) or date-time, e.g. 2026-12-01T23:59; "
                         "later notebooks are collected and marked late")
    collect.add_argument("--path", default="gan-lab/labs", help="the labs folder within each home "
                         "(default gan-lab/labs)")
    collect.add_argument("--solutions", help=SOLUTIONS_HELP)
    collect.set_defaults(run=cmd_collect)

    report = commands.add_parser(
        "report", help="make your lab-report template from your executed lab notebooks",
        description="Write the lab report the course asks for, 第n次实验-学号-姓名.md (n: the notebooks' lab), "
        "with a folder beside it of the notebooks' figures: for each section of the notebooks its figures, "
        "printed results and written answers, then sections for you to fill in. An earlier report is kept, "
        "moved into a folder named after it with .previous-<time>.")
    report.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="your executed lab notebook(s)")
    report.add_argument("--id", required=True, help="your student number (学号), e.g. 2023001234")
    report.add_argument("--name", required=True, help="your name (姓名), e.g. 张三")
    report.add_argument("--out", default=".", help="where the report and its figures go (default: here)")
    report.add_argument("--lab", type=_positive_int, help="the lab number, when the notebooks' names do not say it")
    report.set_defaults(run=cmd_report)
    return parser


def main(argv=None):
    """Entry point of the `gan-lab` console script."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
