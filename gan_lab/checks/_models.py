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
    wrong = []
    for size in (1, 3):
        shape = run(model, inputs[:size], what, "do not hard-code the batch size.").shape
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
