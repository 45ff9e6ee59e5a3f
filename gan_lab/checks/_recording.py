"""Instruments for checking a training step: models and optimizers that record how they are used."""

from collections import namedtuple

import numpy as np

# One call of a recorded model: its name, the `training` argument it got, a copy of its input.
Call = namedtuple("Call", "model training inputs")
# One optimizer update: the optimizer's name, the models whose variables it was given, the calls
# made since the previous update, the gradients and both models' weights before and after, each
# a dict from model name to a list of float64 arrays in trainable_variables order.
Update = namedtuple("Update", "optimizer owners calls grads before after")


def _numpy(value):
    import keras

    return np.array(keras.ops.convert_to_numpy(value), dtype=np.float64)


class Recording:
    """The model calls and optimizer updates made by a training step, in order."""

    def __init__(self, models, vet_update):
        self.models = models  # model name -> recorded keras.Model
        self.vet_update = vet_update  # vet_update(optimizer, owners, grads) before each update
        self.calls, self.updates, self._pending = [], [], []

    def clear(self):
        """Forget everything recorded so far, and take the weights as they are now as the start."""
        self.calls, self.updates, self._pending = [], [], []
        self.start = self.weights()

    def called(self, model, training, inputs):
        """Record one call of a model; symbolic calls (while Keras builds a model) are skipped."""
        try:
            copy = np.array(inputs, dtype=np.float32)
        except Exception:  # noqa: BLE001 - a symbolic tensor has no values to record
            return
        call = Call(model, training, copy)
        self.calls.append(call)
        self._pending.append(call)

    def _owners(self, variables):
        ids = {id(v): name for name, m in self.models.items() for v in m.trainable_variables}
        return {ids.get(id(v)) for v in variables}

    def _aligned(self, grads, variables):
        by_id = {id(v): g for g, v in zip(grads, variables) if g is not None}
        return {
            name: [None if id(v) not in by_id else _numpy(by_id[id(v)])
                   for v in model.trainable_variables]
            for name, model in self.models.items()
        }

    def weights(self):
        """Both models' trainable weights as float64 arrays."""
        return {name: [_numpy(v) for v in m.trainable_variables] for name, m in self.models.items()}

    def update(self, optimizer, apply, grads, variables):
        """Vet and record one optimizer update, performed by `apply(grads, variables)`."""
        owners = self._owners(variables)
        self.vet_update(optimizer, owners, grads)
        before = self.weights()
        aligned = self._aligned(grads, variables)
        result = apply(grads, variables)
        after = self.weights()
        self.updates.append(Update(optimizer, owners, self._pending, aligned, before, after))
        self._pending = []
        return result


def recorded_model(model, name, recording):
    """Wrap `model` in a keras.Model that records each call in `recording`, then delegates."""
    import keras

    class Recorded(keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = model

        def call(self, inputs, training=None):
            recording.called(name, training, inputs)
            return self.inner(inputs, training=training)

    return Recorded()


def recorded_sgd(optimizer, recording, learning_rate):
    """A plain SGD optimizer whose every update (apply or apply_gradients) goes to `recording`."""
    import keras

    class RecordedSGD(keras.optimizers.SGD):
        def apply(self, grads, trainable_variables=None):
            grads = list(grads)
            if trainable_variables is not None:
                trainable_variables = list(trainable_variables)
            variables = trainable_variables
            if variables is None:
                variables = list(self._trainable_variables) if self.built else []
            return recording.update(
                optimizer,
                lambda g, _: super(RecordedSGD, self).apply(g, trainable_variables),
                grads,
                variables,
            )

    return RecordedSGD(learning_rate=learning_rate)
