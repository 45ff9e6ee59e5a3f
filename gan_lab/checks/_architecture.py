"""Read a Keras model's layers as a list of blocks, so that checks can judge its architecture.

A block is one layer with weights (Dense or a convolution) together with the layers that follow it
up to the next one: its batch normalisation, its activation, dropout, reshapes, pooling. The
DCGAN rules are statements about blocks ("every hidden generator layer has batch norm and ReLU").
"""

from dataclasses import dataclass, field

_DENSE = ("Dense", "EinsumDense")
_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
                 "DepthwiseConv1D", "DepthwiseConv2D")
_TRANSPOSED = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_ACTIVATION_LAYERS = {"LeakyReLU": "leaky_relu", "ELU": "elu", "PReLU": "prelu",
                      "Softmax": "softmax"}
_OTHER_NORMS = ("LayerNormalization", "GroupNormalization", "UnitNormalization",
                "SpectralNormalization")


@dataclass
class Block:
    """A layer with weights and what follows it: kind, name, activations, norms and extras."""

    kind: str  # "dense", "conv" or "transposed"
    layer: object
    activations: list = field(default_factory=list)
    batch_norm: bool = False
    other_norms: list = field(default_factory=list)
    pooling: list = field(default_factory=list)
    upsampling: list = field(default_factory=list)
    leak_slopes: list = field(default_factory=list)  # the negative slope of each leaky activation

    @property
    def strides(self):
        """The layer's largest stride (1 for Dense)."""
        strides = getattr(self.layer, "strides", 1)
        return max(strides) if isinstance(strides, (tuple, list)) else strides

    def describe(self):
        """A short name for hints, e.g. "Conv2DTranspose 'conv2d_transpose_1'"."""
        return f"{type(self.layer).__name__} '{self.layer.name}'"


@dataclass
class Architecture:
    """A model read as blocks, plus what came before the first block."""

    blocks: list
    before_first: list  # the kinds of marks ("batch_norm", "pooling", ...) before any block


def _activation_name(activation):
    name = (getattr(activation, "__name__", "") or type(activation).__name__).lower()
    return "leaky_relu" if name == "leakyrelu" else name


def _layer_activation(layer):
    """The activation a layer applies: its `activation` argument or what an activation layer is."""
    kind = type(layer).__name__
    if kind == "ReLU":
        return "leaky_relu" if float(getattr(layer, "negative_slope", 0.0) or 0.0) else "relu"
    if kind in _ACTIVATION_LAYERS:
        return _ACTIVATION_LAYERS[kind]
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = _activation_name(activation)
    return None if name == "linear" else name


def _leak_slope(layer):
    """The negative slope of the leaky activation a layer applies (an activation layer or its argument)."""
    from ._hidden_layers import probe_leak

    kind = type(layer).__name__
    if kind in ("LeakyReLU", "ReLU"):
        return probe_leak(layer)
    return probe_leak(getattr(layer, "activation", None))


def flat_layers(model):
    """The model's layers in order, with nested models opened up."""
    import keras

    result = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            result.extend(flat_layers(layer))
        else:
            result.append(layer)
    return result


def read_architecture(model):
    """Group the model's layers into blocks, one per layer with weights."""
    blocks, before_first = [], []
    for layer in flat_layers(model):
        kind = type(layer).__name__
        if kind in _DENSE or kind in _CONVOLUTIONS or kind in _TRANSPOSED:
            block = Block("dense" if kind in _DENSE else "transposed" if kind in _TRANSPOSED else "conv",
                          layer)
            activation = _layer_activation(layer)
            if activation:
                block.activations.append(activation)
                if activation == "leaky_relu":
                    block.leak_slopes.append(_leak_slope(layer))
            blocks.append(block)
            continue
        current = blocks[-1] if blocks else None
        if kind == "BatchNormalization":
            mark = "batch_norm"
        elif kind in _OTHER_NORMS:
            mark = "other_norm"
        elif "Pooling" in kind:
            mark = "pooling"
        elif kind.startswith("UpSampling"):
            mark = "upsampling"
        elif _layer_activation(layer) and kind not in ("Lambda",):
            mark = "activation"
        else:
            continue  # Flatten, Reshape, Dropout, InputLayer...: shape-only or training noise
        if current is None:
            before_first.append(mark)
        elif mark == "batch_norm":
            current.batch_norm = True
        elif mark == "other_norm":
            current.other_norms.append(kind)
        elif mark == "pooling":
            current.pooling.append(kind)
        elif mark == "upsampling":
            current.upsampling.append(kind)
        else:
            current.activations.append(_layer_activation(layer))
            if current.activations[-1] == "leaky_relu":
                current.leak_slopes.append(_leak_slope(layer))
    return Architecture(blocks, before_first)
