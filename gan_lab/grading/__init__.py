"""Grading: student submissions in, gradebook out (`gan-lab grade`).

submissions (find, read, match answers) -> notebook (the grading notebook) -> run (nbval with
plugin, each kernel in a sandbox) -> gradebook (CSV, feedback); scan flags code for review and
grade.grade_lab ties it together. Importing this package stays light: the sandbox launcher,
which runs inside every grading kernel, lives here too.
"""

CELL_TIMEOUT_S = 120  # seconds a grading cell may run before it is stopped
GRACE_S = 15  # after a timeout, how long the kernel gets to answer the interrupt before it is stopped


def __getattr__(name):
    if name == "grade_lab":  # imported on use: it loads nbformat and jupyter_client
        from gan_lab.grading.grade import grade_lab

        return grade_lab
    raise AttributeError(f"module 'gan_lab.grading' has no attribute {name!r}")
