"""Benchmark the reference DCGAN (Lab04): quality per epoch or within a time budget, speed, mixed precision.

Targets: MNIST score >= 9.0 within 30 full-MNIST epochs, and the harness at most 1.1x slower than a
plain tf.function loop. `--epochs 30` prints the score after every epoch beside the seconds per
epoch (a `--minutes` budget instead depends on the machine's speed). It also prints samples
generated per second and, with --epoch-timing, the time of one full-MNIST epoch with and without
mixed precision (mixed precision pays off on recent GPUs only; on a CPU it is expected to be slower).

    python bench/bench_dcgan.py --epochs 30 [--d-lr 1e-3] [--g-lr 1e-3] [--decay-epochs 0] [--skip-speed]
                                [--run-dir runs/bench_dcgan] [--noise-seeds 5]   (run it again to resume)
    python bench/bench_dcgan.py [--minutes 20] [--timing-steps 300] [--skip-quality] [--epoch-timing]

`--d-lr`/`--g-lr` try other learning rates than the reference's (separate rates are TTUR) and
`--decay-epochs N` lowers both linearly to zero over the last N epochs of an `--epochs` run.
`--noise-seeds K` then scores the run's last generator on K sets of noise (seed 1 is the per-epoch
scores' own), to show how much of a score is the luck of the samples.
"""

import time

import keras
import numpy as np

from gan_benchmark import benchmark_parser, noise_spread, run_benchmark
from gan_lab.data import mnist_dataset
from gan_lab.training import fixed_noise, set_mixed_precision


def generation_speed(reference, seed, count=10000):
    """Samples per second drawn from a freshly built generator (inference, batches of 500)."""
    gan = reference["make_gan"](seed=seed)
    noise = fixed_noise(count, gan.latent_dim, seed)
    gan.generator.predict(noise[:500], verbose=0, batch_size=500)  # trace once before timing
    start = time.perf_counter()
    gan.generator.predict(noise, verbose=0, batch_size=500)
    return count / (time.perf_counter() - start)


def epoch_seconds(reference, seed, mixed):
    """Wall-clock seconds of one full-MNIST training epoch (after a short warm-up)."""
    set_mixed_precision(mixed)
    try:
        keras.utils.set_random_seed(seed)
        gan = reference["make_gan"](seed=seed)
        dataset = mnist_dataset(reference["BATCH_SIZE"] * reference["K"], seed=seed)
        gan.fit(dataset.take(5), epochs=1, verbose=0, shuffle=False)
        start = time.perf_counter()
        gan.fit(dataset, epochs=1, verbose=0, shuffle=False)
        return time.perf_counter() - start
    finally:
        set_mixed_precision(False)


class LinearDecay(keras.callbacks.Callback):
    """Lower both optimizers' learning rates linearly to zero over the last `decay_epochs` of `epochs`."""

    def __init__(self, rates, epochs, decay_epochs, steps_per_epoch):
        super().__init__()
        self.rates, self.start = rates, (epochs - decay_epochs) * steps_per_epoch
        self.length = decay_epochs * steps_per_epoch

    def on_train_batch_begin(self, batch, logs=None):
        # The generator's step count (one per batch at k = 1) survives a resume from a checkpoint.
        step = int(self.model.g_optimizer.iterations)
        fraction = float(np.clip((step - self.start) / self.length, 0.0, 1.0))
        for optimizer, rate in zip((self.model.d_optimizer, self.model.g_optimizer), self.rates):
            optimizer.learning_rate.assign(rate * (1.0 - fraction))


def variant(arguments):
    """A make_gan builder with the learning rates asked for (None: the reference's own make_gan)."""
    if arguments.d_lr is None and arguments.g_lr is None:
        return None

    def make_variant(reference):
        def make_gan(seed):
            gan = reference["make_gan"](seed=seed)
            gan.compile(d_optimizer=keras.optimizers.Adam(arguments.d_lr or 1e-3, beta_1=0.5),
                        g_optimizer=keras.optimizers.Adam(arguments.g_lr or 1e-3, beta_1=0.5))
            return gan
        return make_gan
    return make_variant


if __name__ == "__main__":
    parser = benchmark_parser(__doc__.splitlines()[0], default_minutes=20.0)
    parser.add_argument("--epoch-timing", action="store_true",
                        help="also time one full epoch with and without mixed precision")
    parser.add_argument("--epochs", type=int, help="train exactly this many full-MNIST epochs")
    parser.add_argument("--d-lr", type=float, help="discriminator learning rate (reference: 1e-3)")
    parser.add_argument("--g-lr", type=float, help="generator learning rate (reference: 1e-3)")
    parser.add_argument("--decay-epochs", type=int, default=0, help="linear decay to 0 over the last N epochs")
    parser.add_argument("--skip-speed", action="store_true", help="skip the speed comparison")
    parser.add_argument("--run-dir", default="runs/bench_dcgan",
                        help="checkpoints and scores.txt of an --epochs run; the same command resumes it")
    parser.add_argument("--images", type=int, help="train on this many images only (a quick trial)")
    parser.add_argument("--noise-seeds", type=int, default=0,
                        help="after an --epochs run, score its last generator on this many noise seeds")
    arguments = parser.parse_args()
    if arguments.decay_epochs and not arguments.epochs:
        parser.error("--decay-epochs needs --epochs: the decay ends with the last epoch")
    if arguments.noise_seeds and not arguments.epochs:
        parser.error("--noise-seeds needs --epochs: it scores the generator that run saved")
    callbacks = []
    if arguments.decay_epochs:
        rates = (arguments.d_lr or 1e-3, arguments.g_lr or 1e-3)
        steps = (arguments.images or 60000) // 64  # the reference trains on batches of 64, k = 1
        callbacks.append(LinearDecay(rates, arguments.epochs, arguments.decay_epochs, steps_per_epoch=steps))
    # What a resumed run must share with the run it continues (the decay's end depends on --epochs).
    arguments.variant = f"d_lr={arguments.d_lr} g_lr={arguments.g_lr} decay_epochs={arguments.decay_epochs}"
    if arguments.decay_epochs:
        arguments.variant += f" epochs={arguments.epochs}"
    if arguments.skip_speed:
        arguments.timing_steps = 0
    make_variant = variant(arguments)
    reference = run_benchmark("dcgan", arguments, score_target=9.0, make_gan=make_variant, callbacks=callbacks)
    if arguments.noise_seeds:
        noise_spread(reference, arguments.run_dir, arguments.noise_seeds,
                     make_gan=make_variant(reference) if make_variant else None)
    print(f"generation: {generation_speed(reference, arguments.seed):.0f} samples/s (batches of 500)")
    if arguments.epoch_timing:
        for mixed in (False, True):
            print(f"one full-MNIST epoch, mixed precision {'on ' if mixed else 'off'}: "
                  f"{epoch_seconds(reference, arguments.seed, mixed):.1f} s", flush=True)
