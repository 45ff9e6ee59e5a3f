"""Score a grading notebook: nbval's cell outcomes in, each check's points and hint, a status, notes out."""

from gan_lab.grading.gradebook import CheckResult
from gan_lab.grading.notebook import TAMPERED, exercises_of, without_tokens
from gan_lab.notebook_io import is_check, nbgrader

REWRITTEN = "the check cell did not run to its end as sent (something rewrote or cut it short)"


def _hint(outcome):
    result, message = outcome.get("result"), outcome.get("message", "")
    if result == "error":
        name = outcome.get("ename", "")
        if name == "AssertionError" and not message:
            return "a hidden test of this check failed (an assert in the official check cell)"
        return f"{name}: {message}" if name else message
    if result == "differs":
        printed, expected = without_tokens(message), without_tokens(outcome.get("expected", ""))
        if printed == expected:
            return REWRITTEN
        return f"the check printed {printed!r} where the reference prints {expected!r}"
    return message or result


def score(reference, notebook, outcomes):
    """Turn nbval cell outcomes into (CheckResult per check, status, notes)."""
    numbers = {nbgrader(cell).get("grade_id"): number for number, cell in enumerate(notebook.cells)
               if is_check(cell)}
    died = any(outcome["result"] == "kernel_died" for outcome in outcomes.values())
    unrun = {"result": "not_run", "message": "not run: the kernel died in an earlier cell (code there ended "
             "or crashed Python, e.g. os._exit)" if died else "not run"}
    checks, notes = {}, []
    for exercise in exercises_of(reference):
        outcome = outcomes.get(numbers[exercise.grade_id], unrun)
        if outcome["result"] in ("skipped", "not_run"):
            outcome = unrun
        passed = outcome["result"] == "passed"
        hint = "" if passed else _hint(outcome)
        checks[exercise.grade_id] = CheckResult(passed, exercise.points if passed else 0.0, hint)
        if TAMPERED in outcome.get("message", ""):
            notes.append(f"{exercise.grade_id}: {outcome['message']}")
        elif hint == REWRITTEN:
            notes.append(f"{exercise.grade_id}: {REWRITTEN}")
    results = {outcome["result"] for outcome in outcomes.values()}
    status = ("review" if notes else "kernel_died" if "kernel_died" in results
              else "timeout" if "timeout" in results else "graded")
    return checks, status, notes
