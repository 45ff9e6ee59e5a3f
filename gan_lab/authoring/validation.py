"""Validating and re-running notebooks: the kit's nbval settings, as a pytest plugin and commands."""

import os
import subprocess
import sys
from pathlib import Path

SANITIZE_FILE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"
CELL_TIMEOUT_S = 900


def pytest_configure(config):
    """Use the kit's sanitiser unless one was given, and run notebooks in fast mode by default."""
    option = config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        if not option.nbval_sanitize_with:
            option.nbval_sanitize_with = str(SANITIZE_FILE)
        # Kernels inherit this environment: a notebook that trains shrinks its work.
        os.environ.setdefault("GAN_LAB_FAST", "1")


def pytest_collectstart(collector):
    """Ignore stderr in notebook comparisons: TensorFlow logs there, differently on every device."""
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:
        return
    if isinstance(collector, IPyNbFile) and "stderr" not in collector.skip_compare:
        collector.skip_compare = collector.skip_compare + ("stderr",)


def validate(paths, extra_args=()):
    """Run nbval over `paths` with the kit's settings in a fresh pytest process; return its exit code."""
    command = [
        sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
        f"--nbval-cell-timeout={CELL_TIMEOUT_S}", "-p", "gan_lab.authoring.validation",
        "-p", "no:cacheprovider", "-o", "addopts=", *extra_args, *map(str, paths),
    ]
    return subprocess.call(command, env={**os.environ, "GAN_LAB_FAST": os.environ.get("GAN_LAB_FAST", "1")})


def current_env_kernel_manager():
    """A kernel manager that starts this Python's own kernel, whatever kernelspecs are installed."""
    from jupyter_client.manager import AsyncKernelManager
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    return AsyncKernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager()
    )


def final_terminal_text(text):
    """What a terminal shows after printing `text`: each line keeps only its last redraw.

    Progress bars redraw a line with carriage returns and backspaces; storing every redraw would
    bloat the notebook, so only the final state of each line is kept.
    """
    def final(line):
        drawn = [segment for segment in line.split("\r") if segment.strip("\b")]
        return drawn[-1].replace("\b", "") if drawn else ""

    return "\n".join(final(line) for line in text.split("\n"))


def _merged_streams(outputs):
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    for output in merged:
        if output.output_type == "stream":
            output.text = final_terminal_text(output.text)
    return merged


def execute_in_place(path, timeout=CELL_TIMEOUT_S):
    """Re-run a notebook top to bottom and store its fresh outputs (stderr dropped) in place.

    `timeout` bounds each cell in seconds; None lets a full-mode training cell run as long as it needs.
    """
    import nbclient
    import nbformat

    from gan_lab.notebook_io import notebook_text, write_atomically

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, km=current_env_kernel_manager(), timeout=timeout, record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellTimeoutError:
        raise RuntimeError(f"{path}: a cell ran longer than {timeout} s and was stopped, nothing was written") from None
    except nbclient.exceptions.CellExecutionError as error:
        first_line = str(error).strip().splitlines()[-1]
        raise RuntimeError(f"{path}: a cell failed, nothing was written ({first_line})") from None
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _merged_streams([out for out in cell.outputs if out.get("name") != "stderr"])
    write_atomically(path, notebook_text(notebook))
