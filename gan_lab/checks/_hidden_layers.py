"""Measure a model's hidden layers by running it: which layers with weights it calls, and what
happens to each hidden layer's outputs before the next such layer receives them.

Reading layer configs alone misses activations written as ops in a subclassed `call`, and trusts
defaults that differ between spellings (`layers.LeakyReLU()` has slope 0.3 in Keras 3, while
`activation="leaky_relu"` has 0.2), so the slopes are measured on the values the model computes.
"""

from dataclasses import dataclass, field

import numpy as np

from ._architecture import _layer_activation

_MIN_POINTS = 50  # pre-activations needed on each side of 0 to measure a slope
_FIT_TOLERANCE = 1e-3  # relative misfit below which one side of the map counts as a straight line
_ACTIVATION_LAYERS = ("Activation", "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax")
LEAKY_SLOPE = 0.2  # the negative slope the course's discriminators use (Labs 02 and 04)
KERAS_LEAKY_DEFAULT = 0.3  # layers.LeakyReLU() in Keras 3; activation="leaky_relu" is 0.2
_PROBE = np.array([[-2.0, -1.0, 1.0, 2.0]], dtype="float32")


@dataclass
class Hidden:
    """A hidden layer with weights, and the map from its pre-activations to the next layer's input.

    `positive` and `negative` are the measured slopes of that map on each side of 0, None where it
    is not a straight line through 0 (tanh, ELU, a LayerNormalization in between, ...).
    `declared` lists (name, negative slope or None) for the activations its layers declare.
    """

    layer: object
    positive: float = None
    negative: float = None
    declared: list = field(default_factory=list)

    @property
    def leak(self):
        """The measured negative slope relative to the positive one (0 for ReLU, 1 for none)."""
        if self.positive is None or self.negative is None or self.positive <= 0:
            return None
        return self.negative / self.positive

    def describe(self):
        """A short name for hints, e.g. "Dense 'dense_1'"."""
        return f"{type(self.layer).__name__} '{self.layer.name}'"


def _sublayers(model):
    import keras

    unique = {id(layer): layer for layer in model._flatten_layers(include_self=False, recursive=True)}
    return [layer for layer in unique.values() if not isinstance(layer, keras.Model)]


def _has_kernel(layer):
    try:
        return getattr(layer, "kernel", None) is not None
    except Exception:  # noqa: BLE001 - an unbuilt or unusual layer has no kernel to read
        return False


def _recording_call(layer, calls):
    """A replacement for layer.call that records (layer, input, pre-activation), then activates."""
    original = layer.call

    def call(inputs, *args, **kwargs):
        activation = getattr(layer, "activation", None)
        if activation is not None:
            layer.activation = None
        try:
            pre = original(inputs, *args, **kwargs)
        finally:
            if activation is not None:
                layer.activation = activation
        calls.append((layer, inputs, pre))
        return pre if activation is None else activation(pre)

    return call


def record_weighted_calls(model, inputs):
    """Run `model` on `inputs`; return (layer, input, pre-activation) for each call of a layer
    with a kernel (Dense, EinsumDense, convolutions), in the order the model made them.

    Returns [] when the model cannot be run this way (e.g. a layer whose activation is read-only).
    """
    calls = []
    weighted = [layer for layer in _sublayers(model) if _has_kernel(layer)]
    own_calls = [vars(layer).get("call") for layer in weighted]  # almost always None
    try:
        for layer in weighted:
            layer.call = _recording_call(layer, calls)
        model(inputs, training=False)
    except Exception:  # noqa: BLE001 - the checks already ran the model; this is only a probe
        calls = []
    finally:
        for layer, own in zip(weighted, own_calls):
            if own is not None:
                layer.call = own
            elif "call" in vars(layer):
                del layer.call
    return calls


def _per_sample(tensor):
    import keras

    try:
        array = np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)
    except Exception:  # noqa: BLE001 - symbolic values (from a tf.function) cannot be measured
        return None
    return array.reshape(len(array), -1) if array.ndim else None


def _slope(pre, post):
    """The slope of `post` against `pre` when they lie on one straight line through 0, else None."""
    if pre.size < _MIN_POINTS:
        return None
    slope = float(np.dot(pre, post) / np.dot(pre, pre))
    misfit = np.linalg.norm(post - slope * pre) / np.linalg.norm(pre)
    return slope if misfit < _FIT_TOLERANCE else None


def probe_leak(activation):
    """The negative slope of an activation function or layer (1 above 0), or None if not leaky."""
    import keras

    try:
        values = keras.ops.convert_to_numpy(activation(keras.ops.convert_to_tensor(_PROBE)))
        y = np.asarray(values, dtype=np.float64).ravel()
    except Exception:  # noqa: BLE001 - a layer built for another shape cannot be probed
        return None
    if y.shape != (4,) or not np.allclose(y[2:], [1.0, 2.0]) or not np.isclose(y[0], 2 * y[1]):
        return None
    return float(-y[1])


def _declared(layer, sublayers):
    """(name, negative slope) of `layer`'s own activation and the activation layers after it."""
    found = []
    if _layer_activation(layer):
        found.append((_layer_activation(layer), probe_leak(layer.activation)))
    for later in sublayers[sublayers.index(layer) + 1:]:
        if _has_kernel(later):
            break
        if type(later).__name__ in _ACTIVATION_LAYERS:
            found.append((_layer_activation(later) or "activation", probe_leak(later)))
    return found


def _measure(layer, pre, post, sublayers):
    """The Hidden record of `layer`, whose pre-activations `pre` became the next input `post`."""
    declared = _declared(layer, sublayers) if layer in sublayers else []
    pre, post = _per_sample(pre), _per_sample(post)
    if pre is None or post is None or pre.shape != post.shape:
        return Hidden(layer, declared=declared)
    margin = 1e-3 * float(np.max(np.abs(pre), initial=0.0))
    positive, negative = pre > margin, pre < -margin
    return Hidden(layer, _slope(pre[positive], post[positive]),
                  _slope(pre[negative], post[negative]), declared)


def hidden_layers(model, inputs):
    """Run `model` on `inputs`; return (number of calls of layers with weights, a Hidden for each
    call but the last).

    When no layer with a kernel is seen (weights used by hand in a subclassed model), the count
    is the number of weight matrices instead, and no hidden layer is measured.
    """
    calls = record_weighted_calls(model, inputs)
    if not calls:
        return sum(len(weight.shape) >= 2 for weight in model.weights), []
    sublayers = _sublayers(model)
    hidden = [
        _measure(layer, pre, following_input, sublayers)
        for (layer, _, pre), (_, following_input, _) in zip(calls, calls[1:])
    ]
    return len(calls), hidden
