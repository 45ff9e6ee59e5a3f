"""Tests for gan_lab.training: fast mode, sample grids, checkpoints, resuming, earlier runs and interrupts."""

import gan_lab  # noqa: F401  (selects the TensorFlow backend)

import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab import training

LATENT = 4


class TinyGAN(keras.Model):
    """A minimal GAN with the attributes the harness relies on (not the lab's algorithm)."""

    def __init__(self):
        super().__init__()
        self.latent_dim = LATENT
        self.generator = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(784, activation="tanh"),
                                           keras.layers.Reshape((28, 28, 1))])
        self.discriminator = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                               keras.layers.Dense(1)])

    def compile(self):
        super().compile()
        self.d_optimizer = keras.optimizers.Adam(1e-3)
        self.g_optimizer = keras.optimizers.Adam(1e-3)

    def train_step(self, real):
        noise = tf.random.normal((tf.shape(real)[0], LATENT))
        for network, optimizer in ((self.discriminator, self.d_optimizer), (self.generator, self.g_optimizer)):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(self.discriminator(self.generator(noise)) ** 2)
            optimizer.apply(tape.gradient(loss, network.trainable_variables), network.trainable_variables)
        return {"d_loss": loss, "g_loss": loss}


def tiny_dataset():
    images = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(16)


def compiled_gan():
    gan = TinyGAN()
    gan.compile()
    return gan


def all_weights(gan):
    return [w.numpy().copy() for w in gan.generator.weights + gan.discriminator.weights]


RECEIVED = []  # shapes (after the batch axis) and dtypes fit handed TinyConditionalGAN.train_step


class TinyConditionalGAN(keras.Model):
    """A minimal conditional GAN shaped like Lab06's: networks take [noise, labels] and [images, labels]."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.latent_dim, self.num_classes = LATENT, num_classes
        noise, labels = keras.Input((LATENT,)), keras.Input((), dtype="int32")
        x = keras.layers.Concatenate()([noise, keras.layers.Embedding(num_classes, 4)(labels)])
        images = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(x))
        self.generator = keras.Model([noise, labels], images)
        images, labels = keras.Input((28, 28, 1)), keras.Input((), dtype="int32")
        embedded = keras.layers.Embedding(num_classes, 4)(labels)
        x = keras.layers.Concatenate()([keras.layers.Flatten()(images), embedded])
        self.discriminator = keras.Model([images, labels], keras.layers.Dense(1)(x))

    def compile(self):
        super().compile()
        self.d_optimizer = keras.optimizers.Adam(1e-3)
        self.g_optimizer = keras.optimizers.Adam(1e-3)

    def train_step(self, data):
        RECEIVED.append(tf.nest.map_structure(lambda t: (tuple(t.shape[1:]), t.dtype.name), data))
        images, labels = data
        batch = tf.shape(images)[0]
        noise = tf.random.normal((batch, LATENT))
        fake_labels = tf.random.uniform((batch,), 0, self.num_classes, dtype="int32")
        for network, optimizer in ((self.discriminator, self.d_optimizer), (self.generator, self.g_optimizer)):
            with tf.GradientTape() as tape:
                fake = self.generator([noise, fake_labels])
                loss = tf.reduce_mean(self.discriminator([fake, fake_labels]) ** 2
                                      - self.discriminator([images, labels]))
            optimizer.apply(tape.gradient(loss, network.trainable_variables), network.trainable_variables)
        return {"d_loss": loss, "g_loss": loss}


def labelled_dataset():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((images, rng.integers(0, 10, 32).astype("int32"))).batch(16)


def compiled_conditional_gan():
    gan = TinyConditionalGAN()
    gan.compile()
    return gan


def test_fast_or_full_follows_the_environment(monkeypatch):
    monkeypatch.setenv("GAN_LAB_FAST", "1")
    assert training.fast_or_full(fast=1, full=30) == 1
    monkeypatch.setenv("GAN_LAB_FAST", "0")
    assert training.fast_or_full(fast=1, full=30) == 30


def test_fixed_noise_is_the_same_batch_every_time():
    first, second = training.fixed_noise(8, 5, seed=3), training.fixed_noise(8, 5, seed=3)
    assert first.shape == (8, 5) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, training.fixed_noise(8, 5, seed=4))


def test_train_gan_writes_grids_gif_and_a_checkpoint_per_epoch(tmp_path):
    history = training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=tmp_path, verbose=0)
    assert len(history.history["d_loss"]) == 2
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    assert (tmp_path / "samples.gif").read_bytes()[:6] == b"GIF89a"
    assert (tmp_path / "checkpoint" / "state.json").read_text() == '{"epoch": 2}'


def test_restored_state_equals_the_saved_state(tmp_path):
    gan = compiled_gan()
    training.train_gan(gan, tiny_dataset(), epochs=1, out_dir=tmp_path, verbose=0)
    fresh = compiled_gan()
    epoch = training.restore_training_state(fresh, tmp_path / "checkpoint", (28, 28, 1))
    assert epoch == 1
    for saved, restored in zip(all_weights(gan), all_weights(fresh)):
        np.testing.assert_array_equal(saved, restored)
    for old, new in zip(gan.d_optimizer.variables, fresh.d_optimizer.variables):
        np.testing.assert_array_equal(old.numpy(), new.numpy())


def test_resume_continues_after_the_last_saved_epoch(tmp_path, capsys):
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path, verbose=0)
    history = training.train_gan(compiled_gan(), tiny_dataset(), epochs=3, out_dir=tmp_path,
                                 resume=True, verbose=0)
    assert "after epoch 1" in capsys.readouterr().out
    assert len(history.history["d_loss"]) == 2
    assert (tmp_path / "checkpoint" / "state.json").read_text() == '{"epoch": 3}'


def saved_state(folder):
    return json.loads((folder / "checkpoint" / "state.json").read_text())["epoch"]


def sample_names(folder):
    return sorted(p.name for p in (folder / "samples").iterdir())


def test_training_again_without_resume_moves_the_earlier_run_aside_and_says_where(tmp_path, capsys):
    out = tmp_path / "lab03"
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=out, verbose=0)
    (out / "notes.txt").write_text("mine")
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=out, verbose=0)
    [previous] = tmp_path.glob("lab03.previous-*")
    assert f"to {previous}" in capsys.readouterr().out
    assert saved_state(previous) == 2 and sample_names(previous) == ["epoch_001.png", "epoch_002.png"]
    assert (previous / "samples.gif").is_file()
    assert saved_state(out) == 1 and sample_names(out) == ["epoch_001.png"]
    assert (out / "notes.txt").read_text() == "mine"  # only the run's own files move


def test_every_earlier_run_is_kept_under_its_own_name(tmp_path):
    for _ in range(3):
        training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path / "run", verbose=0)
    assert len(list(tmp_path.glob("run.previous-*"))) == 2


@pytest.mark.parametrize("name", training.RUN_FILES)
def test_refuse_leaves_a_folder_holding_any_run_file_untouched(tmp_path, name):
    if name in ("checkpoint", "samples"):
        (tmp_path / name).mkdir()
    else:
        (tmp_path / name).write_text("x")
    expected = rf"already holds a run \({name}\); pass resume=True to continue it, or a fresh out_dir"
    with pytest.raises(FileExistsError, match=expected):
        training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path, verbose=0,
                           earlier_run="refuse")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_refuse_keeps_a_trained_run_as_it_was(tmp_path):
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=tmp_path, verbose=0)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(FileExistsError):
        training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path, verbose=0,
                           earlier_run="refuse")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_an_unknown_earlier_run_choice_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="earlier_run must be 'move' or 'refuse', got 'replace'"):
        training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path, earlier_run="replace")


def test_resume_on_an_empty_folder_says_it_starts_fresh(tmp_path, capsys):
    history = training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path / "new",
                                 resume=True, verbose=0)
    assert f"no earlier run in {tmp_path / 'new'}: starting fresh" in capsys.readouterr().out
    assert len(history.history["d_loss"]) == 1


def test_resume_with_nothing_left_to_train_says_so_and_leaves_the_run_alone(tmp_path, capsys):
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=tmp_path, verbose=0)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    history = training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=tmp_path, resume=True,
                                 verbose=0)
    assert f"{tmp_path} already holds 2 epochs: nothing to train" in capsys.readouterr().out
    assert history.history == {}
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_resume_without_a_checkpoint_moves_the_other_run_files_aside(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=out, resume=True, verbose=0)
    [previous] = tmp_path.glob("run.previous-*")
    assert (previous / "metrics.json").read_text() == "{}"
    assert "no checkpoint to resume" in capsys.readouterr().out


def test_fitting_through_train_gan_raises_no_shuffle_warning(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        training.train_gan(compiled_gan(), tiny_dataset(), epochs=1, out_dir=tmp_path, verbose=0)
    assert [str(w.message) for w in caught if "shuffle" in str(w.message)] == []


class InterruptAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupt_keeps_every_finished_epoch(tmp_path, capsys):
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=5, out_dir=tmp_path, verbose=0,
                       callbacks=[InterruptAtEpoch(2)])
    assert "interrupted" in capsys.readouterr().out
    assert (tmp_path / "checkpoint" / "state.json").read_text() == '{"epoch": 2}'
    assert (tmp_path / "samples.gif").exists()


def test_a_corrupt_checkpoint_is_a_one_line_error_saying_what_to_do(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "state.json").write_text('{"epoch": 1}')
    with pytest.raises(ValueError, match="cannot resume from .* delete it to start afresh"):
        training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=tmp_path, resume=True)


def test_epoch_timer_records_one_duration_per_epoch(tmp_path):
    timer = training.EpochTimer()
    training.train_gan(compiled_gan(), tiny_dataset(), epochs=2, out_dir=tmp_path, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 2 and all(s > 0 for s in timer.seconds)


def test_time_budget_stops_after_the_epoch_that_spends_it(tmp_path):
    timer = training.EpochTimer()
    history = training.train_gan(compiled_gan(), tiny_dataset(), epochs=5, out_dir=tmp_path, verbose=0,
                                 callbacks=[timer], minutes=1e-9)
    assert len(history.history["d_loss"]) == 1 and len(timer.seconds) == 1


def test_without_a_time_budget_every_epoch_runs(tmp_path):
    history = training.train_gan(compiled_gan(), tiny_dataset(), epochs=3, out_dir=tmp_path, verbose=0,
                                 minutes=60)
    assert len(history.history["d_loss"]) == 3


@pytest.fixture
def mixed_precision():
    training.set_mixed_precision(True)
    yield
    training.set_mixed_precision(False)


def test_mixed_precision_builds_float16_layers_and_wraps_optimizers_for_loss_scaling(mixed_precision):
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    assert layer.compute_dtype == "float16" and layer.variable_dtype == "float32"
    wrapped = training.loss_scaled(keras.optimizers.Adam())
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
    assert training.loss_scaled(wrapped) is wrapped


def test_loss_scaled_leaves_optimizers_alone_by_default():
    assert keras.mixed_precision.global_policy().name == "float32"
    optimizer = keras.optimizers.Adam()
    assert training.loss_scaled(optimizer) is optimizer


# ---------------------------------------------------------------- conditional GANs


def test_fit_hands_a_conditional_train_step_each_batch_of_images_and_labels(tmp_path):
    RECEIVED.clear()
    history = training.train_gan(compiled_conditional_gan(), labelled_dataset(), epochs=2, out_dir=tmp_path,
                                 verbose=0)
    assert len(history.history["d_loss"]) == 2
    assert RECEIVED and set(RECEIVED) == {(((28, 28, 1), "float32"), ((), "int32"))}


def test_a_conditional_grid_has_a_row_per_digit_and_a_column_per_fixed_noise_vector():
    (noise, labels), ncols = training.grid_inputs(TinyConditionalGAN(num_classes=10))
    assert ncols == 10 and noise.shape == (100, LATENT) and labels.dtype == np.int32
    assert labels.reshape(10, 10).tolist() == [[digit] * 10 for digit in range(10)]
    rows = noise.reshape(10, 10, LATENT)
    np.testing.assert_array_equal(rows, np.broadcast_to(training.fixed_noise(10, LATENT), rows.shape))
    assert len({column.tobytes() for column in rows[0]}) == 10


def test_an_unconditional_grid_is_64_fixed_noise_vectors_8_a_row():
    noise, ncols = training.grid_inputs(TinyGAN())
    assert ncols == 8
    np.testing.assert_array_equal(noise, training.fixed_noise(64, LATENT))


def test_train_gan_draws_the_conditional_grid_into_each_epoch_png_and_the_gif(tmp_path, monkeypatch):
    drawn = []

    def recording_grid(images, ncols=None, **kwargs):
        drawn.append((np.asarray(images), ncols))
        return image_grid(images, ncols=ncols, **kwargs)

    image_grid = training.image_grid
    monkeypatch.setattr(training, "image_grid", recording_grid)
    gan = compiled_conditional_gan()
    training.train_gan(gan, labelled_dataset(), epochs=2, out_dir=tmp_path, verbose=0)
    assert [(images.shape, ncols) for images, ncols in drawn] == [((100, 28, 28, 1), 10)] * 2
    inputs, _ = training.grid_inputs(gan)
    np.testing.assert_allclose(drawn[-1][0], gan.generator(inputs, training=False), atol=1e-6)
    assert sample_names(tmp_path) == ["epoch_001.png", "epoch_002.png"]
    assert (tmp_path / "samples.gif").read_bytes()[:6] == b"GIF89a"


def test_a_conditional_gan_resumes_from_its_checkpoint(tmp_path, capsys):
    gan = compiled_conditional_gan()
    training.train_gan(gan, labelled_dataset(), epochs=1, out_dir=tmp_path, verbose=0)
    fresh = compiled_conditional_gan()
    assert training.restore_training_state(fresh, tmp_path / "checkpoint", (28, 28, 1)) == 1
    for saved, restored in zip(all_weights(gan), all_weights(fresh)):
        np.testing.assert_array_equal(saved, restored)
    history = training.train_gan(compiled_conditional_gan(), labelled_dataset(), epochs=2, out_dir=tmp_path,
                                 resume=True, verbose=0)
    assert "after epoch 1" in capsys.readouterr().out and len(history.history["d_loss"]) == 1
    assert saved_state(tmp_path) == 2
