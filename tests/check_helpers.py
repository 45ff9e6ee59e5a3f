"""Helpers shared by the check tests: name a test solution, and read a check's failure.

For the train_step tests (Lab03 and Lab06): the course's losses and what their GAN classes share.
"""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab.checks import CheckFailed

ops = keras.ops


def named(name):
    """Give a test solution the course's function name, as a student's function would have."""

    def rename(fn):
        fn.__name__ = name
        return fn

    return rename


def failure(check, solution):
    """Run `check` on a wrong solution and return its CheckFailed message (one or two lines)."""
    with pytest.raises(CheckFailed) as info:
        check(solution)
    message = str(info.value)
    assert len(message.splitlines()) <= 2
    return message


# ---------------------------------------------------------------- train_step tests


def discriminator_loss(real_logits, fake_logits):
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits, saturating=False):
    if saturating:
        return -ops.mean(ops.softplus(fake_logits))
    return ops.mean(ops.softplus(-fake_logits))


class GANBase(keras.Model):
    """What the notebooks' GAN classes share (train_step unwritten), and the variants' pieces."""

    def __init__(self, generator, discriminator, latent_dim, k, seed):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.k = latent_dim, k
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        raise NotImplementedError()

    def noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def results(self, d_loss, g_loss, real_logits, fake_logits):
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {metric.name: metric.result() for metric in self.metrics}


def assert_leaves_global_state(check, solution):
    """Run `check` on a correct `solution` and assert that it left the global state as it was.

    The global state: Python's and NumPy's random states, and TensorFlow's eager setting.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    check(solution)
    assert random.getstate() == python_state, "the check changed Python's random state"
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state)), (
        "the check changed NumPy's random state"
    )
    assert tf.config.functions_run_eagerly() is False, "the check left tf.functions running eagerly"
