"""The reference GANs for `gan-lab train`, read from the solution notebooks (their single source).

Cells of a solution notebook tagged `reference` define, in order, everything needed to train it:
the builders, the losses, the GAN class and a `make_gan(seed)` function returning a compiled GAN
with the lab's settings, plus `BATCH_SIZE` and `K`. Executing those cells gives the same code the
notebook runs, so the command and the lab can never drift apart.
"""

import nbformat

from gan_lab.course_config import find_solutions
from gan_lab.earlier_labs import REFERENCE_TAG, labs_folder, reference_cells
from gan_lab.notebook_io import writable_folder

NOTEBOOKS = {"mlp": "lab03_gan.ipynb", "dcgan": "lab04_dcgan.ipynb", "cgan": "lab06_conditional_gan.ipynb"}


def load_reference(model, solutions=None):
    """Execute the `reference` cells of the model's solution notebook and return their namespace."""
    if model not in NOTEBOOKS:
        raise ValueError(f"unknown model {model!r}: choose one of {', '.join(NOTEBOOKS)}")
    folder = find_solutions(solutions)
    path = folder / NOTEBOOKS[model]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: restore it from version control")
    cells = reference_cells(nbformat.read(path, as_version=4))
    if not cells:
        raise ValueError(f"{path} has no cells tagged {REFERENCE_TAG!r}")
    namespace = {"__name__": f"gan_lab_reference_{model}"}
    with labs_folder(folder):  # the earlier labs it builds on are the solutions beside it
        exec(compile("\n\n".join(cells), f"{path} (reference cells)", "exec"), namespace)
    missing = [name for name in ("make_gan", "BATCH_SIZE", "K") if name not in namespace]
    if missing:
        raise ValueError(f"{path}: the reference cells do not define {', '.join(missing)}")
    return namespace


def _evaluate(gan, seed):
    """The figures of metrics.json for 10,000 samples from fixed noise (1,000 in fast mode)."""
    from gan_lab.metrics import evaluate_conditional, evaluate_images
    from gan_lab.training import fast_or_full, fixed_noise, is_conditional

    if is_conditional(gan):
        return evaluate_conditional(gan.generator, gan.latent_dim, per_class=fast_or_full(100, 1000), seed=seed,
                                    num_classes=gan.num_classes)
    noise = fixed_noise(fast_or_full(1000, 10000), gan.latent_dim, seed)
    return evaluate_images(gan.generator.predict(noise, verbose=0))


def train_reference(model, epochs, out_dir, resume=False, seed=0, solutions=None,
                    mixed_precision=False):
    """Train a reference GAN on MNIST and write samples, GIF, loss plot, checkpoints, metrics.json.

    A conditional GAN (cgan) trains on images with their labels, and its metrics.json adds the
    conditional accuracy and the accuracy per digit.
    """
    import json

    import keras
    import matplotlib.pyplot as plt

    from gan_lab.data import mnist_dataset
    from gan_lab.plot import loss_curves
    from gan_lab.training import EpochTimer, fast_or_full, is_conditional, set_mixed_precision, train_gan

    out_dir = writable_folder(out_dir)
    reference = load_reference(model, solutions)
    set_mixed_precision(mixed_precision)  # after the reference cells, which set their own default
    try:
        keras.utils.set_random_seed(seed)
        gan = reference["make_gan"](seed=seed)
        dataset = mnist_dataset(reference["BATCH_SIZE"] * reference["K"],
                                limit=fast_or_full(2048, None), seed=seed, labels=is_conditional(gan))
        timer = EpochTimer()
        history = train_gan(gan, dataset, epochs, out_dir, resume=resume, callbacks=[timer],
                            verbose=1, show=False, earlier_run="refuse")
        if not history.history:  # resumed with nothing left to train: leave the run as it is
            raise ValueError(f"{out_dir} already holds {epochs} or more epochs: nothing to train; "
                             "pass a larger --epochs")
        loss_curves(history).savefig(out_dir / "losses.png", dpi=80)
        plt.close("all")
        metrics = {"model": model, "mixed_precision": mixed_precision,
                   "epochs_trained": len(history.history.get("d_loss", [])),
                   "seconds_per_epoch": [round(s, 2) for s in timer.seconds], **_evaluate(gan, seed + 1)}
    finally:
        set_mixed_precision(False)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
