"""The GAN training harness around `fit`: live sample grids, checkpoints, resuming, earlier runs kept.

Nothing here is a lab exercise: the training step itself (a `keras.Model` subclass with
`generator`, `discriminator`, `latent_dim`, `d_optimizer` and `g_optimizer`) is the student's.
A conditional GAN also has `num_classes`: its networks take [noise, labels] and [images, labels],
and its dataset yields (images, labels) pairs.
"""

import json
import os
import shutil
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

from gan_lab import fast_mode, in_kernel
from gan_lab.plot import image_grid, save_gif

CHECKPOINT = "checkpoint"
SAMPLES = "samples"
# What makes a folder hold a run: any of these, whoever wrote it (train_gan or `gan-lab train`).
RUN_FILES = (CHECKPOINT, SAMPLES, "samples.gif", "losses.png", "metrics.json")
EARLIER_RUN_CHOICES = ("move", "refuse")


def fast_or_full(fast, full):
    """Return `fast` when GAN_LAB_FAST is set (tests, CI), else `full`."""
    return fast if fast_mode() else full


def fixed_noise(count, latent_dim, seed=0):
    """The same noise batch every time: sample grids from it show one generator's progress."""
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")


def _caption(epoch, logs):
    names = {"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))"}
    parts = [f"{label} {float(logs[key]):.3f}" for key, label in names.items() if key in logs]
    return f"epoch {epoch}" + (": " + ", ".join(parts) if parts else "")


def is_conditional(gan):
    """True for a conditional GAN: one with `num_classes`, whose networks also take the labels."""
    return getattr(gan, "num_classes", None) is not None


def grid_inputs(gan, count=64, seed=0):
    """Generator input and width of a sample grid: `count` noise vectors 8 a row, or a row per digit."""
    # Conditional: every row uses the same 10 noise vectors, so a column shows one vector as each digit.
    if not is_conditional(gan):
        return fixed_noise(count, gan.latent_dim, seed), 8
    columns, rows = 10, gan.num_classes
    noise = np.tile(fixed_noise(columns, gan.latent_dim, seed), (rows, 1))
    labels = np.repeat(np.arange(rows, dtype="int32"), columns)
    return [noise, labels], columns


class SampleGrid(keras.callbacks.Callback):
    """Each epoch, draw a grid from fixed noise (8x8, or a row per digit), show it, save it; a GIF at the end."""

    def __init__(self, out_dir=None, count=64, seed=0, show=None):
        super().__init__()
        self.out_dir = Path(out_dir) if out_dir else None
        self.count, self.seed = count, seed
        self.show = in_kernel() if show is None else show
        self._display = None

    def on_epoch_end(self, epoch, logs=None):
        inputs, ncols = grid_inputs(self.model, self.count, self.seed)
        figure = image_grid(self.model.generator(inputs, training=False), ncols=ncols,
                            title=_caption(epoch + 1, logs or {}))
        if self.out_dir:
            (self.out_dir / SAMPLES).mkdir(parents=True, exist_ok=True)
            figure.savefig(self.out_dir / SAMPLES / f"epoch_{epoch + 1:03d}.png", dpi=80)
        if self.show:
            from IPython.display import display

            if self._display is None:
                self._display = display(figure, display_id=True)
            else:
                self._display.update(figure)
        plt.close(figure)

    def on_train_end(self, logs=None):
        frames = sorted((self.out_dir / SAMPLES).glob("epoch_*.png")) if self.out_dir else []
        if frames:
            save_gif(frames, self.out_dir / "samples.gif")


class EpochCheckpoint(keras.callbacks.Callback):
    """Save the whole training state (both networks and both optimizers) after every epoch."""

    def __init__(self, out_dir):
        super().__init__()
        self.out_dir = Path(out_dir)

    def on_epoch_end(self, epoch, logs=None):
        save_training_state(self.model, self.out_dir / CHECKPOINT, epoch + 1)


class EpochTimer(keras.callbacks.Callback):
    """Record each epoch's wall-clock seconds in the list `seconds`."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


class TimeBudget(keras.callbacks.Callback):
    """Stop training after the first epoch that brings the training time to `minutes`."""

    def __init__(self, minutes):
        super().__init__()
        self.minutes = minutes

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self._start >= 60 * self.minutes:
            self.model.stop_training = True


def set_mixed_precision(enabled):
    """Build later models in mixed float16 (faster on recent GPUs) or, by default, in float32."""
    keras.mixed_precision.set_global_policy("mixed_float16" if enabled else "float32")


def loss_scaled(optimizer):
    """Wrap `optimizer` in a LossScaleOptimizer when mixed precision is on; else return it as is."""
    mixed = keras.mixed_precision.global_policy().compute_dtype == "float16"
    if mixed and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _optimizer_arrays(optimizer):
    return [np.asarray(variable.numpy()) for variable in optimizer.variables]


def save_training_state(gan, directory, epoch):
    """Write both networks, both optimizers and the epoch to `directory`, replacing it atomically."""
    directory = Path(directory)
    staging = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    gan.generator.save_weights(staging / "generator.weights.h5")
    gan.discriminator.save_weights(staging / "discriminator.weights.h5")
    arrays = {f"d_{i}": a for i, a in enumerate(_optimizer_arrays(gan.d_optimizer))}
    arrays.update({f"g_{i}": a for i, a in enumerate(_optimizer_arrays(gan.g_optimizer))})
    np.savez(staging / "optimizers.npz", **arrays)
    (staging / "state.json").write_text(json.dumps({"epoch": epoch}))
    # Swap in the new state only once it is complete: an interrupt never leaves half a checkpoint.
    previous = directory.with_name(directory.name + ".old")
    shutil.rmtree(previous, ignore_errors=True)
    if directory.exists():
        os.replace(directory, previous)
    os.replace(staging, directory)
    shutil.rmtree(previous, ignore_errors=True)


def _restore_optimizer(optimizer, variables, arrays, prefix, directory):
    optimizer.build(variables)
    count = sum(key.startswith(prefix + "_") for key in arrays)
    saved = [arrays[f"{prefix}_{i}"] for i in range(count)]
    if len(saved) != len(optimizer.variables):
        raise ValueError(f"checkpoint {directory} does not fit this optimizer: start afresh without resume")
    for variable, value in zip(optimizer.variables, saved):
        variable.assign(value)


def _build_networks(gan, image_shape):
    """Call both networks once so that their weights exist before they are loaded."""
    noise, images = np.zeros((1, gan.latent_dim), "float32"), np.zeros((1, *image_shape), "float32")
    if is_conditional(gan):
        labels = np.zeros((1,), "int32")
        gan.generator([noise, labels])
        gan.discriminator([images, labels])
    else:
        gan.generator(noise)
        gan.discriminator(images)


def restore_training_state(gan, directory, image_shape):
    """Load a state written by save_training_state into `gan`; return the epoch it was saved at."""
    directory = Path(directory)
    try:
        epoch = json.loads((directory / "state.json").read_text())["epoch"]
        _build_networks(gan, image_shape)
        gan.generator.load_weights(directory / "generator.weights.h5")
        gan.discriminator.load_weights(directory / "discriminator.weights.h5")
        with np.load(directory / "optimizers.npz") as arrays:
            arrays = dict(arrays)
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"cannot resume from {directory} ({error}): delete it to start afresh") from None
    _restore_optimizer(gan.d_optimizer, gan.discriminator.trainable_variables, arrays, "d", directory)
    _restore_optimizer(gan.g_optimizer, gan.generator.trainable_variables, arrays, "g", directory)
    return int(epoch)


def earlier_run_files(out_dir):
    """The names of an earlier run's files in out_dir (checkpoint, samples, GIF, losses.png, metrics.json)."""
    return [name for name in RUN_FILES if (Path(out_dir) / name).exists()]


def saved_epoch(out_dir):
    """The last epoch saved in out_dir's checkpoint, or None when out_dir holds no checkpoint."""
    state = Path(out_dir) / CHECKPOINT / "state.json"
    if not state.is_file():
        return None
    try:
        return int(json.loads(state.read_text())["epoch"])
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"cannot resume from {state.parent} ({error}): delete it to start afresh") from None


def move_run_aside(out_dir):
    """Move the earlier run's files out of out_dir into a new folder NAME.previous-<time> beside it.

    Returns the new folder. Other files in out_dir stay where they are.
    """
    from gan_lab.notebook_io import stamped_path  # nbformat: only worth importing when a run is moved

    out_dir = Path(out_dir)
    named = out_dir if out_dir.name not in ("", "..") else out_dir.resolve()  # "." has no name
    target = stamped_path(named.parent, f"{named.name}.previous-", "")
    target.mkdir()
    for name in earlier_run_files(out_dir):
        os.replace(out_dir / name, target / name)
    return target


def _make_way(out_dir, resume, earlier_run):
    found = earlier_run_files(out_dir)
    if not found:
        if resume:
            print(f"no earlier run in {out_dir}: starting fresh")
        return
    if earlier_run == "refuse":
        fix = ("it has no checkpoint to resume from: pass a fresh out_dir" if resume
               else "pass resume=True to continue it, or a fresh out_dir")
        raise FileExistsError(f"{out_dir} already holds a run ({', '.join(found)}); {fix}")
    target = move_run_aside(out_dir)
    print(f"moved the earlier run in {out_dir} to {target}"
          + (" (it had no checkpoint to resume); starting fresh" if resume else ""))


def _image_shape(dataset):
    spec = dataset.element_spec
    images = spec[0] if isinstance(spec, tuple) else spec  # (images, labels) for a conditional GAN
    return tuple(images.shape[1:])


def train_gan(gan, dataset, epochs, out_dir, resume=False, callbacks=(), verbose="auto", show=None,
              minutes=None, earlier_run="move"):
    """Fit a compiled GAN with sample grids and per-epoch checkpoints in out_dir; Ctrl-C keeps them.

    With resume=True training continues from out_dir's checkpoint (if any) up to `epochs` in all.
    Otherwise an earlier run in out_dir is never overwritten: earlier_run="move" (the default, for
    notebooks whose cells are run again) moves it to a new folder beside out_dir and says where;
    earlier_run="refuse" raises FileExistsError instead.
    With `minutes`, training also stops after the epoch that uses up that time budget.
    A conditional GAN (see the module's docstring) trains on a dataset of (images, labels) pairs.
    Returns the keras History (partial if interrupted, empty if there was nothing to train).
    """
    if earlier_run not in EARLIER_RUN_CHOICES:
        raise ValueError(f"earlier_run must be 'move' or 'refuse', got {earlier_run!r}")
    out_dir = Path(out_dir)
    saved = saved_epoch(out_dir) if resume else None
    if saved is not None and saved >= epochs:
        print(f"{out_dir} already holds {saved} epochs: nothing to train; pass epochs above {saved} "
              "to train more")
        return keras.callbacks.History()
    if saved is None:
        _make_way(out_dir, resume, earlier_run)
    out_dir.mkdir(parents=True, exist_ok=True)
    initial_epoch = 0
    if saved is not None:
        initial_epoch = restore_training_state(gan, out_dir / CHECKPOINT, _image_shape(dataset))
        print(f"resuming from {out_dir / CHECKPOINT} after epoch {initial_epoch}")
    history = keras.callbacks.History()
    sample_grid = SampleGrid(out_dir, show=show)
    callbacks = [sample_grid, EpochCheckpoint(out_dir), history, *callbacks]
    if minutes is not None:
        callbacks.append(TimeBudget(minutes))
    try:
        # shuffle=False: a tf.data pipeline shuffles itself, and Keras warns that it ignores shuffle=True.
        gan.fit(dataset, epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                verbose=verbose, shuffle=False)
    except KeyboardInterrupt:
        print(f"\ninterrupted: every finished epoch is saved in {out_dir / CHECKPOINT}; "
              "train again with resume=True to continue")
        sample_grid.on_train_end()  # fit skips it on an interrupt: still assemble the GIF
    return history
