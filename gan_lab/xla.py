"""XLA as on a GPU server, on any machine: the GAN_LAB_JIT_COMPILE setting.

Keras 3 compiles `fit`'s training step (and `predict`'s step of an uncompiled model) with XLA when
`jit_compile="auto"`, its default, and a GPU is present; on a CPU-only machine "auto" means no XLA.
`GAN_LAB_JIT_COMPILE=1` makes "auto" decide as on a GPU, so a CPU machine can check that the
notebooks give the same results under XLA. `0` or unset leaves Keras alone. The setting is read
when `gan_lab` is imported; it changes models whose jit_compile is decided afterwards.
"""

import os

SETTING = "GAN_LAB_JIT_COMPILE"


class SettingError(ValueError):
    """A gan-lab environment setting holds a value the kit does not accept; the message is one line."""


def xla_as_on_a_gpu() -> bool:
    """Return True when GAN_LAB_JIT_COMPILE=1, False when it is 0, empty or unset; else raise SettingError."""
    value = os.environ.get(SETTING, "").strip()
    if value not in ("", "0", "1"):
        raise SettingError(f"{SETTING} must be 1 (XLA on, as on a GPU) or 0 or unset (Keras decides), "
                           f"got {value!r}")
    return value == "1"


def resolve_auto_as_on_a_gpu():
    """Make Keras resolve jit_compile="auto" as on a GPU host, for every model from now on."""
    # Why this hook: Keras asks Trainer._resolve_auto_jit_compile() what "auto" means, in compile()
    # and for a model never compiled (its predict()). Its first test is "no GPU: no XLA"; this
    # replacement skips only that test and keeps Keras's own others (tf.distribute, model_supports_jit:
    # layers without XLA support, op determinism). An explicit jit_compile=True or False is untouched,
    # as on a GPU. Wrapping compile() instead would miss predict() of uncompiled generators.
    from keras.src.trainers import trainer

    resolve = getattr(trainer.Trainer, "_resolve_auto_jit_compile", None)
    if resolve is None or not hasattr(trainer, "model_supports_jit"):
        import keras

        raise SettingError(f"{SETTING}=1 cannot be applied: Keras {keras.__version__} no longer decides "
                           "jit_compile='auto' in Trainer._resolve_auto_jit_compile; unset it")
    if getattr(resolve, "as_on_a_gpu", False):  # already in place (the kit was imported again)
        return

    def resolve_as_on_a_gpu(model):
        """What Keras's "auto" gives on a GPU: XLA wherever the model supports it."""
        from keras.src import backend

        if backend.backend() != "tensorflow" or model._distribute_strategy:
            return resolve(model)  # torch: eager on a GPU too; tf.distribute: no XLA on a GPU either
        return trainer.model_supports_jit(model)

    resolve_as_on_a_gpu.as_on_a_gpu = True
    trainer.Trainer._resolve_auto_jit_compile = resolve_as_on_a_gpu
