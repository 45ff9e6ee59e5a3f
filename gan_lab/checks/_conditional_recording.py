"""The check's tiny conditional models, wrapped to record how the student's train_step calls them.

The wrappers take [noise or images, int labels] as the lab's models do, and fail at once, from
inside the call, when given inputs of the wrong form.
"""

from collections import namedtuple

import numpy as np

from ._harness import CheckFailed

IMAGE = (28, 28, 1)
STEP_LATENT = 3
STEP_CLASSES = 5
SPLIT = "for real, real_labels in zip(keras.ops.split(images, self.k), keras.ops.split(labels, self.k))"

# One call of a recorded model: its name, the update it came before, its first input (noise or
# images) and its outputs flattened to rows, and its labels, all as float32.
_Seen = namedtuple("_Seen", "model update inputs labels outputs")


class Sightings:
    """What the recorded models saw, beyond the Recording: labels apart, and the generator's images."""

    def __init__(self):
        self.calls, self.failure = [], None

    def fail(self, message):
        """Fail the check with `message`, from inside a model call."""
        # Keras rewraps errors raised inside a model; keep ours to raise it as it was.
        self.failure = CheckFailed(message)
        raise self.failure


def tiny_models():
    """A tiny generator and discriminator with fixed weights, on [input, one_hot(label)] rows."""
    import keras

    layers, normal = keras.layers, keras.initializers.RandomNormal
    generator = keras.Sequential([
        keras.Input((STEP_LATENT + STEP_CLASSES,)),
        layers.Dense(8, activation="tanh", kernel_initializer=normal(stddev=1.0, seed=1)),
        layers.Dense(784, activation="tanh", kernel_initializer=normal(stddev=0.5, seed=2)),
        layers.Reshape(IMAGE),
    ])
    # As in Lab03, a bias of -2 makes D reject the fakes with varied confidence.
    discriminator = keras.Sequential([
        keras.Input((784 + STEP_CLASSES,)),
        layers.Dense(8, kernel_initializer=normal(stddev=0.05, seed=3)),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Dense(1, kernel_initializer=normal(stddev=1.0, seed=4),
                     bias_initializer=keras.initializers.Constant(-2.0)),
    ])
    return {"generator": generator, "discriminator": discriminator}


def _values(*tensors):
    import keras

    try:
        return [np.asarray(keras.ops.convert_to_numpy(t)) for t in tensors]
    except Exception:  # noqa: BLE001 - a symbolic tensor (while Keras builds a model) has no values
        return None


def _vet_inputs(name, first, labels, batch_size, sightings):
    """Fail at once, from inside the model call, on inputs of the wrong form."""
    if name == "generator" and (first.ndim != 2 or first.shape[1] != STEP_LATENT):
        sightings.fail(
            f"self.generator was given noise of shape {first.shape}, but the check's generator takes "
            f"latent_dim={STEP_LATENT}: draw noise of shape (batch_size, self.latent_dim)."
        )
    if name == "discriminator" and first.shape[1:] != IMAGE:
        sightings.fail(
            f"self.discriminator was given images of shape {first.shape}, expected (batch, 28, 28, 1): "
            "pass the images as they are."
        )
    if labels.ndim == 2 and labels.shape[1] == STEP_CLASSES:
        sightings.fail(
            f"self.{name} was given one-hot labels of shape {labels.shape}: pass the int class ids, "
            "shape (batch,); the models embed or one-hot them themselves."
        )
    if labels.ndim != 1 and labels.shape != (len(first), 1):
        sightings.fail(
            f"self.{name} was given labels of shape {labels.shape}: pass int class ids of shape "
            "(batch,), one per image."
        )
    if len(labels) == len(first):
        return
    if name == "generator":
        sightings.fail(
            f"self.generator was given {len(first)} noise vectors but {len(labels)} labels: draw one "
            "label per noise vector, fake_labels = self.sample_labels(batch_size)."
        )
    if len(labels) == batch_size:
        sightings.fail(
            f"self.discriminator was given {len(first)} images but all {len(labels)} labels of the "
            f"batch: split the labels with the images, {SPLIT}."
        )
    sightings.fail(
        f"self.discriminator was given {len(first)} images but {len(labels)} labels: give it one label "
        "per image, the one it was drawn or generated for."
    )


def recorded_conditional(model, name, recording, sightings, batch_size):
    """Wrap `model` (on [input, one_hot(label)] rows) in a model called as model([x, labels])."""
    import keras

    ops = keras.ops
    first_name = "noise" if name == "generator" else "images"

    class Recorded(keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = model

        def call(self, inputs, training=None):
            if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
                shape = getattr(inputs, "shape", None)
                given = (f"a list of {len(inputs)} inputs" if isinstance(inputs, (list, tuple))
                         else f"one tensor of shape {tuple(shape)}" if shape is not None
                         else type(inputs).__name__)
                sightings.fail(
                    f"self.{name} was called with {given}: the conditional {name} takes a list, "
                    f"self.{name}([{first_name}, labels], training=True)."
                )
            first, labels = inputs
            values = _values(first, labels)
            if values is not None:
                _vet_inputs(name, *values, batch_size, sightings)
            rows = ops.reshape(ops.cast(first, "float32"), (ops.shape(first)[0], -1))
            labels = ops.reshape(labels, (-1,))  # (batch,), or (batch, 1) as a functional model takes too
            joined = ops.concatenate(
                [rows, ops.one_hot(ops.cast(labels, "int32"), STEP_CLASSES, dtype="float32")], axis=1)
            recording.called(name, training, joined)
            outputs = self.inner(joined, training=training)
            if values is not None:
                first, labels = values
                sightings.calls.append(_Seen(
                    name, len(recording.updates), first.reshape(len(first), -1).astype(np.float32),
                    labels.reshape(-1).astype(np.float32),
                    np.asarray(ops.convert_to_numpy(outputs)).reshape(len(first), -1).astype(np.float32),
                ))
            return outputs

    return Recorded()
