"""Benchmark the reference DCGAN (Lab04): quality within a time budget, speed, mixed precision.

Targets on a 2-core CPU: MNIST score >= 9.0 within 20 minutes of training, and the harness at most
1.1x slower than a plain tf.function loop. It also prints samples generated per second and, with
--epoch-timing, the time of one full-MNIST epoch with and without mixed precision (mixed precision
pays off on recent GPUs only; on a CPU it is expected to be slower).

    python bench/bench_dcgan.py [--minutes 20] [--timing-steps 300] [--skip-quality] [--epoch-timing]
"""

import time

import keras

from gan_benchmark import benchmark_parser, run_benchmark
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


if __name__ == "__main__":
    parser = benchmark_parser(__doc__.splitlines()[0], default_minutes=20.0)
    parser.add_argument("--epoch-timing", action="store_true",
                        help="also time one full epoch with and without mixed precision")
    arguments = parser.parse_args()
    reference = run_benchmark("dcgan", arguments, score_target=9.0)
    print(f"generation: {generation_speed(reference, arguments.seed):.0f} samples/s (batches of 500)")
    if arguments.epoch_timing:
        for mixed in (False, True):
            print(f"one full-MNIST epoch, mixed precision {'on ' if mixed else 'off'}: "
                  f"{epoch_seconds(reference, arguments.seed, mixed):.1f} s", flush=True)
