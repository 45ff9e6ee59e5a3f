"""Checks for Lab03: the GAN's train_step (k discriminator updates, then one generator update) and the scores."""

import numpy as np

from ._harness import CheckFailed, call_student, fail, judge_eagerly, student_name, to_numpy
from ._recording import Recording, recorded_model, recorded_sgd
from ._scores import check_frechet_distance, check_inception_score  # noqa: F401 (re-exported)
from ._train_step import (
    require_changes_only_in_updates,
    require_discriminator_updates,
    require_generator_update,
    require_order,
)

_LATENT = 3
_MINIBATCH = 4
_LEARNING_RATE = 0.01
_SEED = 1234
_METRICS = ("d_loss", "g_loss", "d_real", "d_fake")


def _tiny_models():
    """A tiny generator and discriminator with fixed weights and no batch norm or dropout."""
    import keras

    layers, normal = keras.layers, keras.initializers.RandomNormal
    generator = keras.Sequential([
        keras.Input((_LATENT,)),
        layers.Dense(8, activation="tanh", kernel_initializer=normal(stddev=1.0, seed=1)),
        layers.Dense(784, activation="tanh", kernel_initializer=normal(stddev=0.5, seed=2)),
        layers.Reshape((28, 28, 1)),
    ])
    # A bias of -2 makes D reject the fakes with varied confidence, as early in training, so the
    # saturating and non-saturating generator losses have clearly different gradients.
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Flatten(),
        layers.Dense(8, kernel_initializer=normal(stddev=0.05, seed=3)),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Dense(1, kernel_initializer=normal(stddev=1.0, seed=4),
                     bias_initializer=keras.initializers.Constant(-2.0)),
    ])
    return {"generator": generator, "discriminator": discriminator}


def _vet_update(optimizer, owners, grads):
    """Fail before an optimizer is given no gradients or the other model's variables."""
    if grads and all(g is None for g in grads):
        fail(
            f"the gradients given to self.{optimizer} are all None: call the models and compute "
            "the loss inside the `with tf.GradientTape() as tape:` block, then take "
            "tape.gradient(loss, ...)."
        )
    if optimizer == "d_optimizer" and "generator" in owners:
        fail(
            "self.d_optimizer was given the generator's weights: in the discriminator step take "
            "the gradients of d_loss with respect to self.discriminator.trainable_variables only."
        )
    if optimizer == "g_optimizer" and "discriminator" in owners:
        fail(
            "self.g_optimizer was given the discriminator's weights: update the discriminator with "
            "self.d_optimizer and the generator with self.g_optimizer."
        )


def _in_training_mode(training):
    try:
        return training is not None and bool(training)
    except Exception:  # noqa: BLE001 - e.g. a symbolic tensor
        return False


def _require_training_mode(checks, name, calls):
    """Require training=True on every call of the generator and the discriminator."""
    for model in ("generator", "discriminator"):
        wrong = [c.training for c in calls
                 if c.model == model and not _in_training_mode(c.training)]
        checks.require(
            not wrong,
            f"{name} called self.{model} with training={wrong[0] if wrong else None!r}: pass "
            "training=True to every call of the generator and the discriminator, so that batch "
            "norm and dropout layers run in training mode.",
        )


def _require_metrics(checks, name, result):
    """Require a dict of finite d_loss, g_loss, d_real and d_fake, with d_real, d_fake in [0, 1]."""
    fix = "end with: return {metric.name: metric.result() for metric in self.metrics}."
    checks.require(
        isinstance(result, dict),
        f"{name} returned {type(result).__name__}, not a dict of metrics: {fix}",
    )
    missing = [key for key in _METRICS if key not in result]
    checks.require(not missing, f"the dict returned by {name} lacks {', '.join(missing)}: {fix}")
    arrays = {key: to_numpy(result[key], f"the {key} returned by {name}") for key in _METRICS}
    bad = next((k for k, a in arrays.items() if a.size != 1 or not np.isfinite(a).all()), None)
    checks.require(
        bad is None,
        f"the {bad} returned by {name} is not a finite number ({arrays.get(bad)}): update each "
        "tracker with a finite scalar, e.g. self.d_loss_tracker.update_state(d_loss).",
    )
    values = {key: float(array.reshape(-1)[0]) for key, array in arrays.items()}
    unset = next((key for key, value in values.items() if value == 0.0), None)
    checks.require(
        unset is None,
        f"{unset} is 0, as from a tracker that was never updated: call "
        f"self.{unset}_tracker.update_state(...) before returning the metrics.",
    )
    outside = next((key for key in ("d_real", "d_fake") if not 0 <= values[key] <= 1), None)
    checks.require(
        outside is None,
        f"{outside} = {values.get(outside, 0):.4g} is not a probability: track the mean of D's "
        "outputs, keras.ops.mean(keras.ops.sigmoid(logits)).",
    )


def _check_one_step(checks, name, GAN, k, saturating):
    """Run one train_step of a fresh GAN on the tiny models and judge what it did."""
    import tensorflow as tf

    class_name = name.split(".")[0]
    recording = Recording({}, _vet_update)
    for model_name, model in _tiny_models().items():  # the wrappers need the recording first
        recording.models[model_name] = recorded_model(model, model_name, recording)
    gan = call_student(
        class_name, GAN, generator=recording.models["generator"],
        discriminator=recording.models["discriminator"], latent_dim=_LATENT, k=k,
        saturating=saturating, seed=_SEED,
    )
    call_student(
        f"{class_name}.compile", gan.compile,
        d_optimizer=recorded_sgd("d_optimizer", recording, _LEARNING_RATE),
        g_optimizer=recorded_sgd("g_optimizer", recording, _LEARNING_RATE),
    )
    batch = np.random.default_rng(k).uniform(-1.0, 1.0, (k * _MINIBATCH, 28, 28, 1))
    batch = batch.astype(np.float32)
    recording.clear()
    try:
        result = call_student(name, gan.train_step, tf.constant(batch))
    except CheckFailed as failure:
        if "incompatible with the layer" not in str(failure):
            raise
        raise CheckFailed(
            f"{failure}\nThe check's generator takes noise of size {_LATENT}: draw noise of shape "
            "(batch_size, self.latent_dim), not a fixed size."
        ) from None
    setting = f"with k={k} and a batch of {len(batch)} images"
    require_order(checks, name, recording.updates, k, setting)
    require_changes_only_in_updates(
        checks, name, recording.start, recording.updates, recording.weights()
    )
    require_discriminator_updates(checks, recording.updates[:k], batch, setting)
    require_generator_update(checks, recording.updates, saturating)
    _require_training_mode(checks, name, recording.calls)
    _require_metrics(checks, name, result)


def check_train_step(GAN):
    """Check GAN.train_step: k discriminator updates on fresh minibatches, then one G update."""
    name = f"{student_name(GAN, 'GAN')}.train_step"
    judge_eagerly(
        name,
        lambda checks: _check_one_step(checks, name, GAN, k=3, saturating=False),
        lambda checks: _check_one_step(checks, name, GAN, k=1, saturating=True),
    )
