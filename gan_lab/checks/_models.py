"""Helpers shared by the model checks: build a student's model, run it, and read its outputs."""

import numpy as np

from ._harness import CheckFailed, call_student, summarize_error, to_numpy


def build(checks, name, builder, **kwargs):
    """Call the student's builder with `kwargs` and require that it returns a Keras model."""
    import keras

    shown = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
    try:
        model = call_student(name, builder, **kwargs)
    except CheckFailed as failure:
        if not kwargs or "not written yet" in str(failure):
            raise
        raise CheckFailed(
            f"{failure}\nMake {name} use its {', '.join(kwargs)} argument instead of fixed sizes."
        ) from None
    checks.require(
        isinstance(model, keras.Model),
        f"{name}({shown}) must return a Keras model (e.g. keras.Sequential([...])), "
        f"got {type(model).__name__}.",
    )
    return model


def built_generator(checks, name, builder, hint):
    """Build the student's generator with latent_dim=12 and run it on 16 noise vectors.

    Returns (model, what, noise, images); `hint` says how to fix a model that fails to run.
    """
    model = build(checks, name, builder, latent_dim=12)
    what = f"the model from {name}(latent_dim=12)"
    noise = np.random.default_rng(0).standard_normal((16, 12)).astype("float32")
    return model, what, noise, run(model, noise, what, hint)


def run(model, inputs, what, hint):
    """Run `model` in inference mode and return NumPy outputs; on an error, fail with `hint`."""
    try:
        outputs = model(inputs, training=False)
    except Exception as error:  # noqa: BLE001 - any error in the student's model becomes a hint
        raise CheckFailed(
            f"{what} failed on input of shape {inputs.shape}: {hint}\n({summarize_error(error)})"
        ) from None
    return to_numpy(outputs, f"the output of {what}")


def require_trainable(checks, model, what):
    """Require that `model` has trainable weights (checked after it has been called once)."""
    checks.require(
        len(model.trainable_weights) > 0,
        f"{what} has no trainable weights: build it from layers such as keras.layers.Dense.",
    )


def require_batch_follows_input(checks, model, inputs, expected_tail, what):
    """Require that the output batch size follows the input's, for batches of 1 and 3."""

    def outputs_for(size):
        return run(model, inputs[:size], what, "do not hard-code the batch size.")

    require_output_batch(checks, outputs_for, expected_tail, what)


def require_output_batch(checks, outputs_for, expected_tail, what):
    """Require that outputs_for(size), the outputs for the first `size` inputs, has `size` rows."""
    wrong = []
    for size in (1, 3):
        shape = outputs_for(size).shape
        if shape != (size, *expected_tail):
            wrong.append((size, shape))
    size, shape = wrong[0] if wrong else (None, None)
    checks.require(
        not wrong,
        f"{what} gave output shape {shape} for a batch of {size}, expected "
        f"{(size, *expected_tail)}: do not hard-code the batch size.",
    )


def require_finite_floats(checks, outputs, what):
    """Require floating-point outputs with no inf or nan."""
    checks.require(
        np.issubdtype(outputs.dtype, np.floating) and np.all(np.isfinite(outputs)),
        f"{what} must return finite floating-point values, got dtype {outputs.dtype}"
        f"{'' if not np.issubdtype(outputs.dtype, np.floating) else ' with inf or nan'}.",
    )


def require_depends_on_input(checks, outputs, what, input_name):
    """Require that different inputs in a batch give different outputs."""
    spread = float(np.max(np.std(outputs.reshape(len(outputs), -1), axis=0)))
    checks.require(
        spread > 1e-6,
        f"{what} gives the same output for every {input_name}: compute the output from the model's "
        "input instead of ignoring it.",
    )


def require_tanh_range(checks, outputs):
    """Require generator outputs that stay in [-1, 1] and go below -0.5, as after a final tanh."""
    checks.require(
        np.all(np.abs(outputs) <= 1.0 + 1e-5) and np.all(np.isfinite(outputs)),
        f"the generator's outputs must lie in [-1, 1] but reach {np.nanmax(np.abs(outputs)):.3g}: "
        "use tanh on the last layer since real images are scaled to [-1, 1].",
    )
    low = float(outputs.min())
    checks.require(
        low < -0.5,
        f"the generator's outputs never go below {low:.2f}, so they do not cover [-1, 1]: use tanh "
        "on the last layer (not sigmoid or relu) since real images are scaled to [-1, 1].",
    )


def require_logits(checks, outputs):
    """Require discriminator outputs beyond [-1, 1] somewhere and not clipped at 0: logits, not squashed by the model.

    `outputs` should hold the outputs for extreme inputs and weights, of both signs: a final
    sigmoid or tanh keeps them in (0, 1) or (-1, 1) whatever the input and weights.
    """
    squashed = "[0, 1] even for extreme inputs and weights, as after a sigmoid"
    if outputs.min() < 0:
        squashed = "[-1, 1] even for extreme inputs and weights, as after a tanh"
    message = (f"the outputs stay in {squashed}: return logits, with no activation on the last layer "
               "(the losses apply the sigmoid).")
    # A relu on the last layer clips many outputs to exactly 0; a logit is almost never exactly 0.
    # (A correct but randomly initialised network may still give outputs of one sign only.)
    clipped = outputs.min() >= 0 and np.mean(outputs == 0) > 0.1
    if clipped and np.max(np.abs(outputs)) > 1.0 + 1e-3:
        message = ("the outputs are never negative and often exactly 0, even for extreme inputs and weights "
                   "of both signs, as after a relu on the last layer: a logit must be free to take any sign, "
                   "so use no activation there (the losses apply the sigmoid).")
    # One check for both ways of not returning a logit, so that every lab's count stays the same.
    checks.require(np.max(np.abs(outputs)) > 1.0 + 1e-3 and not clipped, message)


def run_with_scaled_weights(model, inputs, factor, what):
    """Run `model` with its trainable weights multiplied by `factor`, then put the weights back."""
    import keras

    variables = list(model.trainable_variables)
    saved = [keras.ops.convert_to_numpy(v) for v in variables]
    try:
        for variable, value in zip(variables, saved):
            variable.assign(value * factor)
        return run(model, inputs, what, "it failed with larger weights.")
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)
