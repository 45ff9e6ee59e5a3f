"""Scoring nbval outcomes (gan_lab.grading.score): points, hints, statuses and tampering notes."""

from grading_helpers import reference

from gan_lab.grading.notebook import COMPLETED, TAMPERED, grading_notebook
from gan_lab.grading.score import REWRITTEN, score


def _numbers(notebook):
    return {c.metadata.get("nbgrader", {}).get("grade_id"): n for n, c in enumerate(notebook.cells)}


def test_score_gives_points_only_to_passed_checks_and_turns_outcomes_into_hints():
    solution = reference()
    graded = grading_notebook(solution, {"sample_noise": "", "build_generator": ""})
    numbers = _numbers(graded)
    outcomes = {numbers["check_sample_noise"]: {"result": "error", "ename": "AssertionError", "message": ""},
                numbers["check_build_generator"]: {"result": "passed"}}
    checks, status, notes = score(solution, graded, outcomes)
    assert (status, notes) == ("graded", [])
    assert (checks["check_build_generator"].passed, checks["check_build_generator"].points) == (True, 1.0)
    assert checks["check_sample_noise"].points == 0 and "hidden test" in checks["check_sample_noise"].hint
    outcomes[numbers["check_build_generator"]] = {"result": "differs", "message": "x", "expected": "y"}
    outcomes[0] = {"result": "timeout", "message": "Timeout of 9 seconds exceeded"}
    checks, status, _ = score(solution, graded, outcomes)
    assert status == "timeout"
    assert checks["check_build_generator"].hint == "the check printed 'x' where the reference prints 'y'"


def test_a_check_that_finds_the_checks_replaced_is_a_review_with_a_note():
    solution = reference()
    graded = grading_notebook(solution, {"sample_noise": "", "build_generator": ""})
    numbers = _numbers(graded)
    outcomes = {numbers["check_sample_noise"]: {"result": "error", "ename": "RuntimeError",
                                                "message": f"{TAMPERED}: check_sample_noise"},
                numbers["check_build_generator"]: {"result": "passed"}}
    checks, status, notes = score(solution, graded, outcomes)
    assert status == "review" and checks["check_sample_noise"].points == 0
    assert notes == [f"check_sample_noise: {TAMPERED}: check_sample_noise"]


def test_a_check_cell_that_lost_its_completion_line_is_a_review():
    solution = reference()
    graded = grading_notebook(solution, {"sample_noise": "", "build_generator": ""})
    numbers = _numbers(graded)
    expected = graded.cells[numbers["check_sample_noise"]].outputs
    token_line = expected[-1]["text"].strip()
    assert token_line.startswith(COMPLETED) and token_line in graded.cells[numbers["check_sample_noise"]].source
    outcomes = {numbers["check_sample_noise"]: {"result": "differs", "message": "sample_noise: all 11 checks passed",
                                                "expected": f"sample_noise: all 11 checks passed {token_line}"},
                numbers["check_build_generator"]: {"result": "differs", "message": f"wrong {token_line}",
                                                   "expected": f"right {token_line}"}}
    checks, status, notes = score(solution, graded, outcomes)
    assert status == "review" and checks["check_sample_noise"].points == 0
    assert notes == [f"check_sample_noise: {REWRITTEN}"]
    assert checks["check_build_generator"].hint == "the check printed 'wrong' where the reference prints 'right'"


def test_each_grading_notebook_gets_fresh_completion_tokens():
    first = grading_notebook(reference(), {"sample_noise": "", "build_generator": ""})
    second = grading_notebook(reference(), {"sample_noise": "", "build_generator": ""})
    tokens = [[c.outputs[-1]["text"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
              for nb in (first, second)]
    assert len(set(tokens[0] + tokens[1])) == 4
