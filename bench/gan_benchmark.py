"""Shared benchmark of a reference GAN: quality over a time budget, and the harness's speed.

`quality_run` trains on the full MNIST training set for a training-time budget and prints, after
each epoch, the elapsed training time, seconds per epoch, MNIST score, Frechet distance and the
smallest and largest class share of 10,000 samples (evaluation time is not counted). `epoch_run`
trains a fixed number of epochs instead, resumably, and also scores the generator with batch norm
using each batch's statistics.

`speed_run` times the kit's harness (`fit` with the lab's `train_step`) against a plain two-tape
`tf.function` loop on the same models and batches, and prints the ratio (target: <= 1.1);
`compare_speed` is its timing part, for any harness and batches (bench_cgan.py times `train_gan`).

bench_mlp_gan.py and bench_dcgan.py run them for the Lab03 and Lab04 references.
"""

import argparse
import statistics
import time
from pathlib import Path

import gan_lab  # noqa: F401  (selects the TensorFlow backend)

import keras
import tensorflow as tf

from gan_lab.data import mnist_dataset
from gan_lab.metrics import evaluate_images
from gan_lab.authoring.reference import load_reference
from gan_lab.training import fixed_noise, is_conditional, restore_training_state, train_gan

SHARE_RANGE = (0.05, 0.15)


def evaluate(gan, batch_statistics=False, noise_seed=1):
    """Score 10,000 samples from fixed noise (batch_statistics: batch norm in training mode, batches of 500)."""
    noise = fixed_noise(10000, gan.latent_dim, seed=noise_seed)
    if batch_statistics:
        images = tf.concat([gan.generator(noise[i:i + 500], training=True) for i in range(0, len(noise), 500)], 0)
        return evaluate_images(images.numpy())
    return evaluate_images(gan.generator.predict(noise, verbose=0, batch_size=1000))


def target_met(result, score_target):
    """Whether scored samples reach the target: the score, and every class between 5% and 15%."""
    shares = result["class_histogram"]
    return result["mnist_score"] >= score_target and SHARE_RANGE[0] <= min(shares) <= max(shares) <= SHARE_RANGE[1]


def quality_run(reference, minutes, seed, score_target):
    """Train epoch by epoch until the training-time budget is spent, printing the figures."""
    keras.utils.set_random_seed(seed)
    gan = reference["make_gan"](seed=seed)
    dataset = mnist_dataset(reference["BATCH_SIZE"] * reference["K"], seed=seed)
    print(f"{'epoch':>5} {'train s':>8} {'s/epoch':>8} {'score':>6} {'distance':>9} {'min %':>6} {'max %':>6}")
    trained, epoch, reached = 0.0, 0, None
    while trained < minutes * 60:
        start = time.perf_counter()
        gan.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, verbose=0, shuffle=False)
        seconds = time.perf_counter() - start
        trained, epoch = trained + seconds, epoch + 1
        result = evaluate(gan)
        shares = result["class_histogram"]
        ok = target_met(result, score_target)
        if ok and reached is None:
            reached = (epoch, trained)
        print(f"{epoch:>5} {trained:>8.1f} {seconds:>8.2f} {result['mnist_score']:>6.2f} "
              f"{result['frechet_distance']:>9.2f} {100 * min(shares):>6.1f} {100 * max(shares):>6.1f}"
              f"{'  <- target met' if ok and reached == (epoch, trained) else ''}", flush=True)
    if reached:
        print(f"target (score >= {score_target}, every class 5-15%) first met after epoch {reached[0]}, "
              f"{reached[1] / 60:.1f} minutes of training")
    else:
        print(f"target NOT met within {minutes} minutes of training")


class ScoreEachEpoch(keras.callbacks.Callback):
    """After each epoch print, and append to a file, its seconds and the scores of 10,000 samples.

    The seconds run from the epoch's start to its end, the kit's sample grid and checkpoint included
    and the scoring left out. The generator is scored twice: batch norm with its moving averages
    (inference, as everywhere in the kit) and with the statistics of each batch of 500 samples.
    """

    HEADER = (f"{'epoch':>5} {'s/epoch':>8} {'score':>6} {'distance':>9} {'min %':>6} {'max %':>6} "
              f"{'bn-batch score':>14} {'distance':>9}")

    def __init__(self, log_path, score_target):
        super().__init__()
        self.log_path, self.score_target = Path(log_path), score_target

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        result, batch = evaluate(self.model), evaluate(self.model, batch_statistics=True)
        shares = result["class_histogram"]
        met = target_met(result, self.score_target)
        line = (f"{epoch + 1:>5} {seconds:>8.1f} {result['mnist_score']:>6.2f} {result['frechet_distance']:>9.2f} "
                f"{100 * min(shares):>6.1f} {100 * max(shares):>6.1f} {batch['mnist_score']:>14.2f} "
                f"{batch['frechet_distance']:>9.2f}{'  <- target' if met else ''}")
        print(line, flush=True)
        with self.log_path.open("a") as log:
            log.write(line + "\n")


def epoch_run(reference, epochs, seed, score_target, run_dir, make_gan=None, callbacks=(), settings="", images=None):
    """Train exactly `epochs` full-MNIST epochs with the kit's train_gan, scoring after each one.

    Checkpoints and the per-epoch figures (scores.txt) go to run_dir; running the same command
    again resumes after the last finished epoch (the data order of the resumed epochs then differs
    from an uninterrupted run, as after any resume). `settings` (a line naming the variant) is kept
    in run_dir, and a resume with other settings stops with a one-line error. `images` limits the
    training set, for a quick trial of the script.
    """
    run_dir = Path(run_dir)
    settings_path = run_dir / "settings.txt"
    if settings_path.exists() and settings_path.read_text().strip() != settings:
        raise SystemExit(f"{run_dir} holds a run with other settings ({settings_path.read_text().strip()}): "
                         "pass another --run-dir, or the same settings to resume it")
    keras.utils.set_random_seed(seed)
    gan = (make_gan or reference["make_gan"])(seed=seed)
    dataset = mnist_dataset(reference["BATCH_SIZE"] * reference["K"], limit=images, seed=seed)
    log_path = run_dir / "scores.txt"
    print(ScoreEachEpoch.HEADER)
    if log_path.exists():
        print(log_path.read_text(), end="")
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        settings_path.write_text(settings + "\n")
    scorer = ScoreEachEpoch(log_path, score_target)
    train_gan(gan, dataset, epochs=epochs, out_dir=run_dir, resume=True, callbacks=[*callbacks, scorer],
              verbose=0, show=False)
    met = [line.split()[0] for line in log_path.read_text().splitlines() if line.endswith("<- target")]
    print(f"target (score >= {score_target}, every class 5-15%) " +
          (f"first met after epoch {met[0]}" if met else f"NOT met within {epochs} epochs"))


def noise_spread(reference, run_dir, noise_seeds, make_gan=None):
    """Score the generator saved in run_dir on 10,000 samples from each of noise seeds 1..noise_seeds.

    Seed 1 is the noise of the per-epoch scores, so its line repeats the last epoch's; the others show
    how far a score moves with the samples alone, the yardstick for a target met by a few hundredths.
    """
    gan = (make_gan or reference["make_gan"])(seed=0)
    epoch = restore_training_state(gan, Path(run_dir) / "checkpoint", (28, 28, 1))
    scores = []
    for seed in range(1, noise_seeds + 1):
        result = evaluate(gan, noise_seed=seed)
        scores.append(result["mnist_score"])
        print(f"epoch {epoch}, noise seed {seed}: score {result['mnist_score']:.3f}, "
              f"distance {result['frechet_distance']:.2f}", flush=True)
    print(f"epoch {epoch} over {noise_seeds} noise seeds: score {statistics.mean(scores):.3f} "
          f"(from {min(scores):.3f} to {max(scores):.3f})")


def plain_step_function(gan, reference):
    """A plain two-tape tf.function step on the GAN's networks with its own optimizers (cGAN: real, labels)."""
    generator, discriminator, latent_dim = gan.generator, gan.discriminator, gan.latent_dim
    # Same optimizer settings as the lab's, but fresh optimizers bound to these variables.
    d_optimizer = gan.d_optimizer.__class__.from_config(gan.d_optimizer.get_config())
    g_optimizer = gan.g_optimizer.__class__.from_config(gan.g_optimizer.get_config())
    # The notebooks' losses: AutoGraph cannot read their source (it would warn), and they need no conversion.
    d_loss_fn, g_loss_fn = (tf.autograph.experimental.do_not_convert(reference[name])
                            for name in ("discriminator_loss", "generator_loss"))
    conditional = is_conditional(gan)

    def fakes(batch):
        noise = tf.random.normal((batch, latent_dim))
        if not conditional:
            return generator(noise, training=True), None
        labels = tf.random.uniform((batch,), 0, gan.num_classes, dtype=tf.int32)
        return generator([noise, labels], training=True), labels

    def judge(images, labels):
        return discriminator(images if labels is None else [images, labels], training=True)

    @tf.function
    def step(real, real_labels=None):
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake, fake_labels = fakes(batch)
            d_loss = d_loss_fn(judge(real, real_labels), judge(fake, fake_labels))
        d_vars = discriminator.trainable_variables
        d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
        with tf.GradientTape() as tape:
            g_loss = g_loss_fn(judge(*fakes(batch)))
        g_vars = generator.trainable_variables
        g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        return d_loss, g_loss

    return step


def time_plain(step, batches):
    start = time.perf_counter()
    for batch in batches:
        losses = step(*batch) if isinstance(batch, tuple) else step(batch)
    float(losses[0])  # wait for the last step to finish
    return time.perf_counter() - start


def time_harness(gan, batches):
    start = time.perf_counter()
    gan.fit(batches, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start


def speed_run(reference, steps, seed, repeats=7):
    """Seconds per step for the harness and the plain loop, timed in interleaved repeats."""
    gan = timing_gan(reference, seed)
    batch_size = reference["BATCH_SIZE"]
    batches = cached_batches(mnist_dataset(batch_size, seed=seed), steps)
    compare_speed(lambda: time_harness(gan, batches), plain_step_function(gan, reference), batches,
                  steps, batch_size, repeats, "harness (fit + train_step)")


def timing_gan(reference, seed):
    """A fresh reference GAN for timing, with k=1 so that both loops do the same work per batch."""
    keras.utils.set_random_seed(seed)
    gan = reference["make_gan"](seed=seed)
    if reference["K"] != 1:
        print(f"note: the lab uses K={reference['K']}; both loops are timed with k=1")
        gan.k = 1
    return gan


def cached_batches(dataset, steps):
    """The first `steps` batches of `dataset`, held in memory so every timed loop reads the same ones."""
    batches = dataset.take(steps).cache()
    list(batches)  # fill the cache
    return batches


def compare_speed(run_harness, plain, batches, steps, batch_size, repeats, harness_label):
    """Time run_harness() (one pass over `batches`) against the plain step over them; print the ratio."""
    time_plain(plain, batches)  # trace and warm up both before timing
    run_harness()
    harness_times, plain_times = [], []
    for _ in range(repeats):
        harness_times.append(run_harness() / steps)
        plain_times.append(time_plain(plain, batches) / steps)
    # Step times on small CPUs jump between speed levels for reasons outside the code, so the
    # best repeat (timeit's convention) measures the code; the median is shown beside it.
    for label, times in ((harness_label, harness_times), ("plain two-tape tf.function", plain_times)):
        print(f"  {label}: best {1000 * min(times):.1f} ms/step, median {1000 * statistics.median(times):.1f} "
              f"ms/step, {batch_size / min(times):.0f} real images/s")
    print(f"batch {batch_size}, {steps} steps x {repeats} interleaved repeats")
    best = min(harness_times) / min(plain_times)
    median = statistics.median(harness_times) / statistics.median(plain_times)
    print(f"  ratio harness / plain: best {best:.3f}, median {median:.3f} (target <= 1.1)")


def benchmark_parser(description, default_minutes):
    """The options every benchmark script takes; scripts may add their own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--minutes", type=float, default=default_minutes, help="training-time budget")
    parser.add_argument("--timing-steps", type=int, default=300, help="steps per timing repeat")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-quality", action="store_true", help="only run the speed comparison")
    return parser


def print_environment():
    """Print the TensorFlow and Keras versions and the devices the figures were measured on."""
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"devices: {[d.device_type for d in tf.config.list_physical_devices()]}")


def run_benchmark(model, args, score_target, make_gan=None, callbacks=()):
    """Run the quality and speed parts for one reference GAN; return the reference namespace.

    With args.epochs it trains that many epochs (resumable, in args.run_dir) instead of a time budget;
    make_gan(reference) may then return a variant builder, and callbacks are added to the training.
    """
    reference = load_reference(model)
    print_environment()
    if getattr(args, "epochs", None):
        settings = f"seed={args.seed} images={args.images} {getattr(args, 'variant', '')}"
        epoch_run(reference, args.epochs, args.seed, score_target, args.run_dir,
                  make_gan=make_gan(reference) if make_gan else None, callbacks=callbacks,
                  settings=settings.strip(), images=args.images)
    elif not args.skip_quality:
        quality_run(reference, args.minutes, args.seed, score_target)
    if args.timing_steps:
        speed_run(reference, args.timing_steps, args.seed)
    return reference
