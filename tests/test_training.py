"""Tests for gan_lab.training: fast mode, sample grids, checkpoints, resuming and interrupts."""

import gan_lab  # noqa: F401  (selects the TensorFlow backend)

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
