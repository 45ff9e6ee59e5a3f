"""Benchmark the reference conditional GAN (Lab06): quality epoch by epoch, and the harness's speed.

Trains the Lab06 reference (read from the solution notebook) with `train_gan` on all 60,000 MNIST
training images and prints after each epoch its seconds (training with the kit's sample grid and
checkpoint; the evaluation is not counted), then the MNIST score, Frechet distance and conditional
accuracy of 10,000 samples (1,000 per asked digit); at the end, the best epoch for each figure.
With GAN_LAB_FAST=1 it trains on 2,048 images and scores 100 samples per digit.

--ratio then times the harness (`train_gan`: `fit` with the lab's `train_step`, the sample grid and
the checkpoint) against a plain two-tape tf.function loop on the same networks and batches, in
interleaved repeats of one full-MNIST epoch each (so the per-epoch grid and checkpoint weigh as
much as in training), and prints the ratio of the medians (target: <= 1.1). --epochs 0 --ratio
times only.

    python bench/bench_cgan.py [--epochs 30] [--ratio] [--timing-steps 937] [--repeats 5] [--seed 0]
"""

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import keras

from gan_benchmark import cached_batches, compare_speed, plain_step_function, print_environment, timing_gan
from gan_lab.authoring.reference import load_reference
from gan_lab.data import mnist_dataset
from gan_lab.metrics import evaluate_conditional
from gan_lab.training import EpochTimer, fast_or_full, train_gan

FIGURES = (("mnist_score", "score", max), ("frechet_distance", "distance", min),
           ("conditional_accuracy", "conditional accuracy", max))


class EpochReport(keras.callbacks.Callback):
    """After each epoch, score the generator and print a row; placed after the EpochTimer, so untimed."""

    def __init__(self, timer, per_class):
        super().__init__()
        self.timer, self.per_class, self.rows = timer, per_class, []

    def on_train_begin(self, logs=None):
        print(f"{'epoch':>5} {'s/epoch':>8} {'score':>6} {'distance':>9} {'cond. acc.':>10}", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        gan = self.model
        result = evaluate_conditional(gan.generator, gan.latent_dim, per_class=self.per_class,
                                      num_classes=gan.num_classes)
        self.rows.append((epoch + 1, result))
        print(f"{epoch + 1:>5} {self.timer.seconds[-1]:>8.2f} {result['mnist_score']:>6.2f} "
              f"{result['frechet_distance']:>9.2f} {100 * result['conditional_accuracy']:>9.1f}%", flush=True)


def best_epochs(rows):
    """One line naming, for each figure, its best value and the epoch it was reached."""
    parts = []
    for key, label, best in FIGURES:
        epoch, result = best(rows, key=lambda row: row[1][key])
        value = f"{100 * result[key]:.1f}%" if key == "conditional_accuracy" else f"{result[key]:.2f}"
        parts.append(f"{label} {value} at epoch {epoch}")
    return "best: " + ", ".join(parts)


def quality_run(reference, epochs, seed, out_dir):
    """Train with train_gan for `epochs`, printing each epoch's seconds and figures, then the best epochs."""
    keras.utils.set_random_seed(seed)
    gan = reference["make_gan"](seed=seed)
    dataset = mnist_dataset(reference["BATCH_SIZE"] * reference["K"], limit=fast_or_full(2048, None),
                            seed=seed, labels=True)
    timer = EpochTimer()
    report = EpochReport(timer, per_class=fast_or_full(100, 1000))
    train_gan(gan, dataset, epochs, out_dir, callbacks=[timer, report], verbose=0, show=False,
              earlier_run="refuse")
    if report.rows:  # none when interrupted during the first epoch
        print(best_epochs(report.rows))


def ratio_run(reference, steps, repeats, seed, out_dir):
    """Seconds per step of train_gan and of a plain loop on the same batches, interleaved; print the ratio."""
    gan = timing_gan(reference, seed)
    batch_size = reference["BATCH_SIZE"]
    batches = cached_batches(mnist_dataset(batch_size, seed=seed, labels=True), steps)
    runs = itertools.count()

    def run_harness():
        start = time.perf_counter()
        train_gan(gan, batches, 1, Path(out_dir) / f"timing-{next(runs)}", verbose=0, show=False,
                  earlier_run="refuse")
        return time.perf_counter() - start

    compare_speed(run_harness, plain_step_function(gan, reference), batches, steps, batch_size, repeats,
                  "harness (train_gan: fit + train_step + grid + checkpoint)")


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def parser():
    """The benchmark's options."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--epochs", type=non_negative_int, default=30, help="epochs to train and score (0: none)")
    options.add_argument("--ratio", action="store_true", help="also time the harness against a plain loop")
    options.add_argument("--timing-steps", type=positive_int, default=None,
                         help="steps per timing repeat (default: one full-MNIST epoch; 20 with GAN_LAB_FAST=1)")
    options.add_argument("--repeats", type=positive_int, default=None,
                         help="interleaved timing repeats (default 5; 2 with GAN_LAB_FAST=1)")
    options.add_argument("--seed", type=int, default=0)
    options.add_argument("--out", help="keep the runs' samples and checkpoints here (default: a temporary folder)")
    return options


def main():
    """Run the quality part for --epochs, then with --ratio the speed comparison."""
    args = parser().parse_args()
    reference = load_reference("cgan")
    print_environment()
    steps = args.timing_steps or fast_or_full(20, 60000 // reference["BATCH_SIZE"])
    repeats = args.repeats or fast_or_full(2, 5)
    with tempfile.TemporaryDirectory(prefix="bench-cgan-") as scratch:
        out = Path(args.out or scratch)
        try:
            if args.epochs:
                quality_run(reference, args.epochs, args.seed, out / "quality")
            if args.ratio:
                ratio_run(reference, steps, repeats, args.seed, out)
        except FileExistsError as error:
            raise SystemExit(f"bench_cgan: {error}") from None


if __name__ == "__main__":
    main()
