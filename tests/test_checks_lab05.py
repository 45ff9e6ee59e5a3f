"""Lab05 checks: right answers pass, and each typical mistake gets its own hint."""

import gan_lab  # noqa: F401

import keras
import pytest
import tensorflow as tf
from keras import layers, ops

from check_helpers import failure, named
from grading_helpers import reference, without_markers
from gan_lab.checks import (
    check_feature_matching_loss, check_minibatch_discrimination, check_smoothed_discriminator_loss,
)
from gan_lab.notebook_io import nbgrader


def _smoothed(real_target, fake_target):
    @named("smoothed_discriminator_loss")
    def loss(real_logits, fake_logits, smoothing=0.1):
        real_t, fake_t = real_target(smoothing), fake_target(smoothing)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        return bce(ops.full_like(real_logits, real_t), real_logits) + bce(ops.full_like(fake_logits, fake_t), fake_logits)

    return loss


def test_one_sided_smoothing_with_keras_bce_passes(capsys):
    check_smoothed_discriminator_loss(_smoothed(lambda s: 1.0 - s, lambda s: 0.0))
    assert capsys.readouterr().out.endswith("checks passed\n")


def test_one_sided_smoothing_with_softplus_passes(capsys):
    @named("smoothed_discriminator_loss")
    def loss(real_logits, fake_logits, smoothing=0.1):
        target = 1.0 - smoothing
        real = target * ops.softplus(-real_logits) + (1 - target) * ops.softplus(real_logits)
        return ops.mean(real) + ops.mean(ops.softplus(fake_logits))

    check_smoothed_discriminator_loss(loss)
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("real, fake, hint", [
    (lambda s: 1.0 - s, lambda s: s, "the fake labels were smoothed too"),
    (lambda s: 1.0, lambda s: 0.0, "no smoothing happened"),
    (lambda s: s, lambda s: 0.0, "the real target is 1 - smoothing, not smoothing itself"),
    (lambda s: 0.9, lambda s: 0.0, "use the smoothing argument instead of a fixed 0.1"),
], ids=["fake_smoothed_too", "not_smoothed", "target_is_smoothing", "smoothing_ignored"])
def test_smoothing_mistakes_get_their_hints(real, fake, hint):
    assert hint in failure(check_smoothed_discriminator_loss, _smoothed(real, fake))


def test_smoothing_from_probabilities_is_rejected_with_logits_hint():
    @named("smoothed_discriminator_loss")
    def loss(real_logits, fake_logits, smoothing=0.1):
        bce = keras.losses.BinaryCrossentropy()
        return bce(ops.full_like(real_logits, 1 - smoothing), real_logits) + bce(ops.zeros_like(fake_logits), fake_logits)

    assert "these are logits, not probabilities" in failure(check_smoothed_discriminator_loss, loss)


class GoodMinibatchDiscrimination(layers.Layer):
    """A correct layer, kernel laid out as (features, kernels, kernel_dim); options give the mistakes."""

    def __init__(self, num_kernels=8, kernel_dim=4, include_self=False, divide_by=None, axis=1, norm="l1",
                 exp=True, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim
        self.include_self, self.divide_by, self.axis, self.norm, self.exp = include_self, divide_by, axis, norm, exp

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.num_kernels, self.kernel_dim))

    def used_kernel(self):
        return self.kernel

    def call(self, inputs):
        m = ops.einsum("na,abc->nbc", inputs, self.used_kernel())
        if self.axis == 1:
            differences = ops.abs(ops.expand_dims(m, 1) - ops.expand_dims(m, 0))  # (i, j, b, c)
        else:  # the mistake: compare kernels of the same sample
            differences = ops.abs(ops.expand_dims(m, 2) - ops.expand_dims(m, 1))  # (n, b, b', c)
        distance = ops.sum(differences, -1) if self.norm == "l1" else ops.sqrt(ops.sum(differences**2, -1))
        similarity = ops.exp(-distance) if self.exp else distance
        features = ops.sum(similarity, axis=1)
        if not self.include_self:  # drop the self-comparison: exp(0) = 1, or a distance of 0
            features = features - (1.0 if self.exp else 0.0)
        n = ops.shape(inputs)[0]
        if self.divide_by:
            features = features / ops.cast(n - (1 if self.divide_by == "n - 1" else 0), "float32")
        return ops.concatenate([inputs, features], axis=-1)


def _variant(layer_class=GoodMinibatchDiscrimination, **options):
    @named("MinibatchDiscrimination")
    def make(num_kernels, kernel_dim):
        return layer_class(num_kernels, kernel_dim, **options)

    return make


class FlatKernelMinibatchDiscrimination(layers.Layer):
    """A correct layer with the paper's flat (features, kernels * kernel_dim) kernel and a mask."""

    def __init__(self, num_kernels=8, kernel_dim=4, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim

    def build(self, input_shape):
        self.T = self.add_weight(shape=(input_shape[-1], self.num_kernels * self.kernel_dim))

    def call(self, inputs):
        m = ops.reshape(ops.matmul(inputs, self.T), (-1, self.num_kernels, self.kernel_dim))
        l1 = ops.sum(ops.abs(m[:, None] - m[None]), axis=-1)
        others = 1.0 - ops.expand_dims(ops.eye(ops.shape(inputs)[0]), -1)
        return ops.concatenate([inputs, ops.sum(ops.exp(-l1) * others, axis=1)], axis=-1)


class TensorFlowMinibatchDiscrimination(layers.Layer):
    """A correct layer in TensorFlow ops, kernel laid out as (features, kernel_dim, kernels), the mean."""

    def __init__(self, num_kernels=8, kernel_dim=4, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim

    def build(self, input_shape):
        self.T = self.add_weight(shape=(input_shape[-1], self.kernel_dim, self.num_kernels))

    def call(self, inputs):
        flat = tf.matmul(inputs, tf.reshape(self.T, (tf.shape(self.T)[0], -1)))
        m = tf.transpose(tf.reshape(flat, (-1, self.kernel_dim, self.num_kernels)), (0, 2, 1))
        l1 = tf.norm(m[:, None] - m[None], ord=1, axis=-1)
        n = tf.cast(tf.shape(inputs)[0], tf.float32)
        return tf.concat([inputs, (tf.reduce_sum(tf.exp(-l1), axis=1) - 1.0) / (n - 1.0)], axis=-1)


@pytest.mark.parametrize("layer", [
    _variant(), _variant(divide_by="n - 1"), FlatKernelMinibatchDiscrimination, TensorFlowMinibatchDiscrimination,
], ids=["einsum_sum", "einsum_mean", "flat_kernel_mask", "tensorflow_kernel_dim_first_mean"])
def test_correct_minibatch_discrimination_layers_pass(layer, capsys):
    check_minibatch_discrimination(layer)
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("divide_by", [None, "n"], ids=["sum_over_all_j", "mean_over_all_j"])
def test_papers_sum_over_all_j_including_i_passes(divide_by, capsys):
    check_minibatch_discrimination(_variant(include_self=True, divide_by=divide_by))
    assert "checks passed" in capsys.readouterr().out


def test_lab_reference_minibatch_layer_passes_all_eight_checks(capsys):
    cell = next(c for c in reference("lab05_training_problems").cells
                if nbgrader(c).get("grade_id") == "MinibatchDiscrimination")
    namespace = {"keras": keras, "layers": layers, "ops": ops}
    exec(without_markers(cell.source), namespace)
    check_minibatch_discrimination(namespace["MinibatchDiscrimination"])
    assert capsys.readouterr().out == "MinibatchDiscrimination: all 8 checks passed\n"


@pytest.mark.parametrize("options, hint", [
    ({"include_self": True, "divide_by": "n - 1"}, "a mean divides by the number of samples it sums over"),
    ({"divide_by": "n"}, "a mean divides by the number of samples it sums over"),
    ({"axis": 2}, "compare each sample with the other samples of the batch"),
    ({"norm": "l2"}, "use the L1 distance"),
    ({"exp": False}, "apply exp(-distance) to each distance"),
], ids=["sum_over_all_j_divided_by_n_minus_1", "sum_over_others_divided_by_n", "across_features", "euclidean",
        "no_exp"])
def test_minibatch_discrimination_mistakes_get_their_hints(options, hint):
    assert hint in failure(check_minibatch_discrimination, _variant(**options))


def test_minibatch_layer_that_drops_its_input_is_rejected():
    class OnlyFeatures(GoodMinibatchDiscrimination):
        def call(self, inputs):
            return super().call(inputs)[:, inputs.shape[-1]:]

    message = failure(check_minibatch_discrimination, named("MinibatchDiscrimination")(OnlyFeatures))
    assert "expected (6, 9)" in message and "concatenate" in message


def test_minibatch_mean_over_a_fixed_batch_size_is_rejected():
    class FixedBatch(GoodMinibatchDiscrimination):
        def call(self, inputs):
            mean = super().call(inputs)[:, inputs.shape[-1]:]
            return ops.concatenate([inputs, mean * ops.cast(ops.shape(inputs)[0] - 1, "float32") / 5.0], axis=-1)

    message = failure(check_minibatch_discrimination, _variant(FixedBatch, divide_by="n - 1"))
    assert "3 identical samples got 0.4" in message and "not a fixed number" in message


class KerasStopGradient(GoodMinibatchDiscrimination):
    def used_kernel(self):
        return ops.stop_gradient(self.kernel)


class TensorFlowStopGradient(GoodMinibatchDiscrimination):
    def used_kernel(self):
        return tf.stop_gradient(self.kernel)


class NumPyKernel(GoodMinibatchDiscrimination):
    def used_kernel(self):
        return self.kernel.numpy()


class ConstantCopy(GoodMinibatchDiscrimination):
    def build(self, input_shape):
        super().build(input_shape)
        self.copy = ops.copy(self.kernel)

    def used_kernel(self):
        return self.copy


class NonTrainableCopy(GoodMinibatchDiscrimination):
    def build(self, input_shape):
        super().build(input_shape)
        self.frozen = self.add_weight(shape=self.kernel.shape, trainable=False)

    def used_kernel(self):
        return self.frozen


class NonTrainableKernel(GoodMinibatchDiscrimination):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.num_kernels, self.kernel_dim), trainable=False)


class FrozenLayer(GoodMinibatchDiscrimination):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trainable = False


_USE_THE_WEIGHT = "from the weight add_weight returned, with keras.ops"
_LEAVE_TRAINABLE = "leave it trainable"


@pytest.mark.parametrize("layer_class, fix", [
    (KerasStopGradient, _USE_THE_WEIGHT), (TensorFlowStopGradient, _USE_THE_WEIGHT), (NumPyKernel, _USE_THE_WEIGHT),
    (ConstantCopy, _USE_THE_WEIGHT), (NonTrainableCopy, _USE_THE_WEIGHT), (NonTrainableKernel, _LEAVE_TRAINABLE),
    (FrozenLayer, _LEAVE_TRAINABLE),
], ids=["keras_stop_gradient", "tf_stop_gradient", "numpy_kernel", "constant_copy", "non_trainable_copy",
        "kernel_trainable_false", "layer_trainable_false"])
def test_minibatch_kernel_without_gradient_is_rejected_naming_the_fix(layer_class, fix):
    message = failure(check_minibatch_discrimination, _variant(layer_class))
    assert "kernel T gets no gradient" in message and fix in message


def test_minibatch_l1_as_square_root_of_squares_is_rejected_for_its_nan_gradient():
    class SquareRoot(GoodMinibatchDiscrimination):
        def call(self, inputs):
            m = ops.einsum("na,abc->nbc", inputs, self.kernel)
            distance = ops.sum(ops.sqrt(ops.square(ops.expand_dims(m, 1) - ops.expand_dims(m, 0))), -1)
            return ops.concatenate([inputs, ops.sum(ops.exp(-distance), axis=1) - 1.0], axis=-1)

    message = failure(check_minibatch_discrimination, _variant(SquareRoot))
    assert "NaN or infinite gradient" in message and "keras.ops.abs" in message


def _matching(formula):
    @named("feature_matching_loss")
    def loss(real_features, fake_features):
        return formula(real_features, fake_features)

    return loss


@pytest.mark.parametrize("formula", [
    lambda r, f: ops.sum(ops.square(ops.mean(r, 0) - ops.mean(f, 0))),
    lambda r, f: ops.mean(ops.square(ops.mean(r, 0) - ops.mean(f, 0))),
], ids=["summed_over_features", "averaged_over_features"])
def test_feature_matching_passes_summed_or_averaged_over_features(formula, capsys):
    check_feature_matching_loss(_matching(formula))
    assert "checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("formula, hint", [
    (lambda r, f: ops.sum(ops.abs(ops.mean(r, 0) - ops.mean(f, 0))), "not its absolute value"),
    (lambda r, f: ops.sqrt(ops.sum(ops.square(ops.mean(r, 0) - ops.mean(f, 0)))), "square the norm"),
    (lambda r, f: ops.mean(ops.square(r - f)), "match the batch MEANS"),
], ids=["absolute", "norm_not_squared", "per_sample"])
def test_feature_matching_mistakes_get_their_hints(formula, hint):
    assert hint in failure(check_feature_matching_loss, _matching(formula))


def test_feature_matching_in_numpy_is_rejected_for_its_missing_gradient():
    import numpy as np

    loss = _matching(lambda r, f: float(np.sum((np.mean(r, 0) - np.mean(f, 0)) ** 2)))
    assert "no gradient for the fake features" in failure(check_feature_matching_loss, loss)


def test_blank_minibatch_layer_is_reported_as_not_written_yet():
    class Blank(layers.Layer):
        def __init__(self, num_kernels=5, kernel_dim=3, **kwargs):
            super().__init__(**kwargs)

        def build(self, input_shape):
            raise NotImplementedError()

    assert "is not written yet" in failure(check_minibatch_discrimination, named("MinibatchDiscrimination")(Blank))
