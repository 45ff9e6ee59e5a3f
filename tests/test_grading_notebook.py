"""The notebook nbval runs for one student (gan_lab.grading.notebook)."""

from grading_helpers import reference

from gan_lab.grading.notebook import grading_notebook


def test_the_grading_notebook_verifies_the_checks_and_ends_at_the_last_check():
    solution = reference()
    graded = grading_notebook(solution, {"sample_noise": "# mine", "build_generator": "# mine too"})
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in graded.cells}
    check = by_id["check_sample_noise"]
    assert "_gan_lab_verify([check_sample_noise, _gan_lab_check_failed]" in check.source
    assert "### BEGIN HIDDEN TESTS" in check.source and check.outputs[0]["text"].endswith("checks passed\n")
    assert by_id["sample_noise"].source == "# mine" and by_id["sample_noise"].outputs == []
    assert graded.cells[-1] is by_id["check_build_generator"]  # what follows the last check is not run
    code = [c for c in solution.cells if c.cell_type == "code"]
    assert len(graded.cells) < len(code)
