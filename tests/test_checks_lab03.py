"""Tests for the Lab03 check: correct train_steps pass, each typical mistake gets its own hint."""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras
import pytest
import tensorflow as tf
from check_helpers import (
    GANBase, assert_leaves_global_state, discriminator_loss, failure, generator_loss, named,
)

from gan_lab.checks import check_train_step

ops = keras.ops
BCE = keras.losses.BinaryCrossentropy(from_logits=True)
SUCCESS = "GAN.train_step: all 58 checks passed\n"


class Skeleton(GANBase):
    """The part of the notebook's GAN that students are given; train_step is theirs to write."""

    def __init__(self, generator, discriminator, latent_dim=100, k=1, saturating=False, seed=None):
        super().__init__(generator, discriminator, latent_dim, k, seed)
        self.saturating = saturating

    # Pieces the variants below share.
    def d_update(self, real, noise):
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        return d_loss, real_logits

    def g_update(self, noise):
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = generator_loss(fake_logits, saturating=self.saturating)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply(grads, self.generator.trainable_variables)
        return g_loss, fake_logits


def gan(train_step):
    """A GAN class, named as in the notebook, whose train_step is `train_step`."""
    return named("GAN")(type("GAN", (Skeleton,), {"train_step": train_step}))


def _goodfellow(d_loss_fn=discriminator_loss, g_loss_fn=generator_loss):
    """The reference train_step, with the losses it uses as arguments."""

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0] // self.k
        for real in ops.split(real_images, self.k):
            noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            with tf.GradientTape() as tape:
                fake = self.generator(noise, training=True)
                real_logits = self.discriminator(real, training=True)
                fake_logits = self.discriminator(fake, training=True)
                d_loss = d_loss_fn(real_logits, fake_logits)
            grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = g_loss_fn(fake_logits, saturating=self.saturating)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply(grads, self.generator.trainable_variables)
        return self.results(d_loss, g_loss, real_logits, fake_logits)

    return train_step


_reference = _goodfellow()


# ---------------------------------------------------------------- correct train_steps


def _concatenated(self, real_images):
    # One D call on real and fake together; the mean BCE over both is half the course's loss.
    batch_size = ops.shape(real_images)[0] // self.k
    labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))])
    for real in ops.split(real_images, self.k):
        fake = self.generator(self.noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            logits = self.discriminator(ops.concatenate([real, fake]), training=True)
            real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
            d_loss = BCE(labels, logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _inline_bce_with_apply_gradients(self, real_images):
    m = real_images.shape[0] // self.k
    for i in range(self.k):
        real = real_images[i * m:(i + 1) * m]
        noise = tf.random.normal((m, self.latent_dim))
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            d_loss = (BCE(tf.ones_like(real_logits), real_logits)
                      + BCE(tf.zeros_like(fake_logits), fake_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
    with tf.GradientTape() as tape:
        fake_logits = self(tf.random.normal((m, self.latent_dim)), training=True)
        fake_logits = self.discriminator(fake_logits, training=True)
        if self.saturating:
            g_loss = -BCE(tf.zeros_like(fake_logits), fake_logits)
        else:
            g_loss = BCE(tf.ones_like(fake_logits), fake_logits)
    grads = tape.gradient(g_loss, self.generator.trainable_weights)
    self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _fakes_generated_up_front_and_metrics_in_loop(self, real_images):
    # G does not change during the D steps, so all k fake minibatches can be made at once.
    batch_size = ops.shape(real_images)[0] // self.k
    fakes = self.generator(self.noise(self.k * batch_size), training=True)
    for real, fake in zip(ops.split(real_images, self.k), ops.split(fakes, self.k)):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    self.g_loss_tracker.update_state(g_loss)
    self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
    return {metric.name: metric.result() for metric in self.metrics}


@tf.function
def _in_tf_function(self, real_images):
    return _reference(self, real_images)


CORRECT = {
    "reference": _reference,
    "real_and_fake_in_one_call": _concatenated,
    "inline_bce_apply_gradients_tf_random": _inline_bce_with_apply_gradients,
    "fakes_up_front_metrics_in_loop": _fakes_generated_up_front_and_metrics_in_loop,
    "tf_function": _in_tf_function,
}


@pytest.mark.parametrize("train_step", CORRECT.values(), ids=CORRECT.keys())
def test_correct_train_step_passes_and_prints_success_line(train_step, capsys):
    check_train_step(gan(train_step))
    assert capsys.readouterr().out == SUCCESS


def test_gan_with_saturating_default_passes():
    class SaturatingGAN(gan(_reference)):
        def __init__(self, generator, discriminator, latent_dim=100, k=1, saturating=True,
                     seed=None):
            super().__init__(generator, discriminator, latent_dim, k, saturating, seed)

    check_train_step(named("GAN")(SaturatingGAN))


def test_check_leaves_random_state_and_eager_setting_as_they_were():
    assert_leaves_global_state(check_train_step, gan(_reference))


def test_check_restores_eager_setting_after_a_failure():
    failure(check_train_step, Skeleton)
    assert tf.config.functions_run_eagerly() is False


# ---------------------------------------------------------------- mistakes


def _one_tape_for_both_models(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake = self.generator(self.noise(batch_size), training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        variables = self.discriminator.trainable_variables + self.generator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, variables), variables)
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_updated_in_the_loop(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        d_loss, real_logits = self.d_update(real, self.noise(batch_size))
        g_loss, fake_logits = self.g_update(self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _optimizers_swapped(self, real_images):
    self.d_optimizer, self.g_optimizer = self.g_optimizer, self.d_optimizer
    try:
        return _reference(self, real_images)
    finally:
        self.d_optimizer, self.g_optimizer = self.g_optimizer, self.d_optimizer


def _d_optimizer_for_both(self, real_images):
    self.g_optimizer = self.d_optimizer
    return _reference(self, real_images)


def _generator_first(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    for real in ops.split(real_images, self.k):
        d_loss, real_logits = self.d_update(real, self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _k_ignored(self, real_images):
    batch_size = ops.shape(real_images)[0]
    d_loss, real_logits = self.d_update(real_images, self.noise(batch_size))
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _k_steps(choose_real, choose_noise):
    """A train_step making k D updates on the real images and noise the two functions pick."""

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0] // self.k
        noise = self.noise(batch_size)
        for i in range(self.k):
            real = choose_real(self, real_images, i, batch_size)
            d_loss, real_logits = self.d_update(real, choose_noise(self, noise, batch_size))
        g_loss, fake_logits = self.g_update(self.noise(batch_size))
        return self.results(d_loss, g_loss, real_logits, fake_logits)

    return train_step


def _fresh_real(self, real_images, i, batch_size):
    return real_images[i * batch_size:(i + 1) * batch_size]


def _fresh_noise(self, noise, batch_size):
    return self.noise(batch_size)


def _fixed_seed_noise(self, noise, batch_size):
    return keras.random.normal((batch_size, self.latent_dim), seed=42)


def _g_step_reusing(fakes_or_noise):
    """The TF-tutorial shape: G's loss comes from the last D step's tape or noise."""

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0] // self.k
        for real in ops.split(real_images, self.k):
            noise = self.noise(batch_size)
            with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
                fake = self.generator(noise, training=True)
                real_logits = self.discriminator(real, training=True)
                fake_logits = self.discriminator(fake, training=True)
                d_loss = discriminator_loss(real_logits, fake_logits)
                g_loss = generator_loss(fake_logits, saturating=self.saturating)
            grads = d_tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        if fakes_or_noise == "noise":
            g_loss, fake_logits = self.g_update(noise)
        else:
            grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
            self.g_optimizer.apply(grads, self.generator.trainable_variables)
        return self.results(d_loss, g_loss, real_logits, fake_logits)

    return train_step


def _discriminator_not_in_training_mode(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(self.generator(self.noise(batch_size), training=True))
            d_loss = discriminator_loss(real_logits, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_not_in_training_mode(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        d_loss, real_logits = self.d_update(real, self.noise(batch_size))
    with tf.GradientTape() as tape:
        fake_logits = self.discriminator(self.generator(self.noise(batch_size)), training=True)
        g_loss = generator_loss(fake_logits, saturating=self.saturating)
    grads = tape.gradient(g_loss, self.generator.trainable_variables)
    self.g_optimizer.apply(grads, self.generator.trainable_variables)
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _discriminator_never_sees_fakes(self, real_images):
    for real in ops.split(real_images, self.k):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            d_loss = ops.mean(ops.softplus(-real_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    g_loss, fake_logits = self.g_update(self.noise(ops.shape(real)[0]))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _uneven_real(self, real_images, i, batch_size):
    ends = [0, 3, 7, 12]
    return real_images[ends[i]:ends[i + 1]]


def _d_step_also_nudging_generator(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        d_loss, real_logits = self.d_update(real, self.noise(batch_size))
        for variable in self.generator.trainable_variables:
            variable.assign(variable * 1.01)
    g_loss, fake_logits = self.g_update(self.noise(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _zero_gradients(model):
    """The reference, but `model`'s optimizer gets zero gradients, so its weights never change."""

    def train_step(self, real_images):
        optimizer = getattr(self, f"{model[0]}_optimizer")
        apply = optimizer.apply
        optimizer.apply = lambda grads, variables: apply([g * 0 for g in grads], variables)
        try:
            return _reference(self, real_images)
        finally:
            del optimizer.apply

    return train_step


def _generator_called_outside_the_tape(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        d_loss, real_logits = self.d_update(real, self.noise(batch_size))
    fake = self.generator(self.noise(batch_size), training=True)
    with tf.GradientTape() as tape:
        fake_logits = self.discriminator(fake, training=True)
        g_loss = generator_loss(fake_logits, saturating=self.saturating)
    grads = tape.gradient(g_loss, self.generator.trainable_variables)
    self.g_optimizer.apply(grads, self.generator.trainable_variables)
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _rescaled_real(self, real_images, i, batch_size):
    return _fresh_real(self, real_images, i, batch_size) / 127.5 - 1.0


WRONG = {
    "d_optimizer_given_generator_weights": (
        _one_tape_for_both_models,
        "self.d_optimizer was given the generator's weights: in the discriminator step take the "
        "gradients of d_loss with respect to self.discriminator.trainable_variables only.",
    ),
    "generator_updated_inside_the_k_loop": (
        _generator_updated_in_the_loop,
        "with k=3 and a batch of 12 images, GAN.train_step updated the generator between "
        "discriminator updates: update it once, after the loop of k discriminator steps.",
    ),
    "optimizers_swapped": (
        _optimizers_swapped,
        "self.g_optimizer was given the discriminator's weights: update the discriminator with "
        "self.d_optimizer and the generator with self.g_optimizer.",
    ),
    "d_optimizer_used_for_the_generator": (
        _d_optimizer_for_both, "self.d_optimizer was given the generator's weights"
    ),
    "generator_before_discriminator": (
        _generator_first,
        "GAN.train_step updated the generator before the discriminator: do the k discriminator "
        "updates first, then one generator update.",
    ),
    "k_ignored": (
        _k_ignored,
        "with k=3 and a batch of 12 images, GAN.train_step updated the discriminator once, "
        "expected k=3 times: loop over k minibatches",
    ),
    "same_real_minibatch_each_step": (
        _k_steps(lambda self, real_images, i, m: real_images[:m], _fresh_noise),
        "with k=3 and a batch of 12 images, the discriminator steps reused the same real images: "
        "give each step its own minibatch: for real in keras.ops.split(real_images, self.k).",
    ),
    "whole_batch_each_step": (
        _k_steps(lambda self, real_images, i, m: real_images, _fresh_noise),
        "each discriminator step used the whole batch of real images",
    ),
    "uneven_minibatches": (
        _k_steps(_uneven_real, _fresh_noise),
        "the discriminator steps used [3, 4, 5] real images, expected 4 each",
    ),
    "one_noise_batch_for_all_k_steps": (
        _k_steps(_fresh_real, lambda self, noise, m: noise),
        "the discriminator steps reused the same generated images: draw new noise inside the loop, "
        "for each step",
    ),
    "fixed_noise_seed": (
        _k_steps(_fresh_real, _fixed_seed_noise), "use seed=self.seed_generator"
    ),
    "generator_loss_from_the_discriminator_tape": (
        _g_step_reusing("fakes"), "the generator update used no new call of self.generator"
    ),
    "generator_step_reusing_noise": (
        _g_step_reusing("noise"), "the generator update reused the noise of a discriminator step"
    ),
    "generator_labels_flipped": (
        _goodfellow(g_loss_fn=lambda f, saturating=False: BCE(ops.zeros_like(f), f)),
        "the generator update made D(G(z)) smaller, raising its loss",
    ),
    "discriminator_loss_arguments_swapped": (
        _goodfellow(d_loss_fn=lambda r, f: discriminator_loss(f, r)),
        "raised the discriminator's loss on its images",
    ),
    "discriminator_never_sees_fakes": (
        _discriminator_never_sees_fakes,
        "discriminator update 1 of 3 was made without calling the discriminator on generated "
        "images",
    ),
    "saturating_ignored": (
        _goodfellow(g_loss_fn=lambda f, saturating=False: generator_loss(f)),
        "with saturating=True, the generator update followed the gradient of the non-saturating "
        "loss instead of the minimax one: call generator_loss(fake_logits, "
        "saturating=self.saturating).",
    ),
    "saturating_negated": (
        _goodfellow(g_loss_fn=lambda f, saturating=False: generator_loss(f, True)),
        "with saturating=False, the generator update followed the gradient of the minimax loss",
    ),
    "discriminator_step_changing_generator": (
        _d_step_also_nudging_generator,
        "GAN.train_step changed the generator's weights outside the optimizers' updates: change "
        "them only with self.d_optimizer.apply(...) and self.g_optimizer.apply(...).",
    ),
    "discriminator_weights_unchanged": (
        _zero_gradients("discriminator"),
        "discriminator update 1 of 3 left the discriminator's weights unchanged",
    ),
    "generator_weights_unchanged": (
        _zero_gradients("generator"), "the generator update left the generator's weights unchanged"
    ),
    "generator_called_outside_the_tape": (
        _generator_called_outside_the_tape,
        "the gradients given to self.g_optimizer are all None: call the models and compute the "
        "loss inside the `with tf.GradientTape() as tape:` block",
    ),
    "real_images_rescaled_again": (
        _k_steps(_rescaled_real, _fresh_noise),
        "discriminator update 1 of 3 was made without calling the discriminator on real images "
        "from the batch: pass it a minibatch of real_images unchanged",
    ),
    "noise_for_the_whole_batch": (
        _k_steps(_fresh_real, lambda self, noise, m: self.noise(ops.shape(noise)[0] * self.k)),
        "discriminator update 1 of 3 used 12 generated images for 4 real ones: draw one noise "
        "vector per real image, batch_size = keras.ops.shape(real_images)[0] // self.k.",
    ),
    "generator_without_training_true": (
        _generator_not_in_training_mode,
        "GAN.train_step called self.generator with training=None: pass training=True to every "
        "call of the generator and the discriminator, so that batch norm and dropout layers run "
        "in training mode.",
    ),
    "discriminator_without_training_true": (
        _discriminator_not_in_training_mode,
        "GAN.train_step called self.discriminator with training=None",
    ),
}


@pytest.mark.parametrize("train_step, hint", WRONG.values(), ids=WRONG.keys())
def test_wrong_train_step_is_rejected_with_specific_hint(train_step, hint):
    assert hint in failure(check_train_step, gan(train_step))


def _generator_never_updated(self, real_images):
    batch_size = ops.shape(real_images)[0] // self.k
    for real in ops.split(real_images, self.k):
        d_loss, real_logits = self.d_update(real, self.noise(batch_size))
    return self.results(d_loss, d_loss, real_logits, real_logits)


def _generator_updated_twice(self, real_images):
    _reference(self, real_images)
    g_loss, fake_logits = self.g_update(self.noise(4))
    return {metric.name: metric.result() for metric in self.metrics}


def test_train_step_without_generator_update_is_rejected():
    message = failure(check_train_step, gan(_generator_never_updated))
    assert message.startswith("GAN.train_step never updated the generator: apply the gradients")
    assert "self.g_optimizer.apply(grads, self.generator.trainable_variables)" in message


def test_train_step_updating_the_generator_twice_is_rejected():
    message = failure(check_train_step, gan(_generator_updated_twice))
    assert message.startswith("GAN.train_step updated the generator 2 times: update it once per")


def test_unwritten_train_step_is_reported_as_not_written_yet():
    message = failure(check_train_step, named("GAN")(Skeleton))
    assert message == (
        "GAN.train_step is not written yet: replace `raise NotImplementedError()` with your code."
    )


def test_error_inside_train_step_names_the_exception():
    def train_step(self, real_images):
        self.optimizer_d.apply([], [])

    message = failure(check_train_step, gan(train_step))
    assert message.startswith(
        "GAN.train_step(<tensor of shape (12, 28, 28, 1)>) raised AttributeError:"
    )
    assert "optimizer_d" in message


# ---------------------------------------------------------------- returned metrics


def _returning(make_result):
    def train_step(self, real_images):
        results = _reference(self, real_images)
        return make_result(self, results)

    return train_step


def _nan_d_fake(self, results):
    self.d_fake_tracker.update_state(ops.log(-ops.ones(())))
    return {metric.name: metric.result() for metric in self.metrics}


WRONG_METRICS = {
    "no_return": (
        lambda self, results: None,
        "GAN.train_step returned NoneType, not a dict of metrics: end with: return "
        "{metric.name: metric.result() for metric in self.metrics}.",
    ),
    "list_of_results": (
        lambda self, results: list(results.values()), "returned list, not a dict of metrics"
    ),
    "missing_keys": (
        lambda self, results: {"loss": results["d_loss"]},
        "the dict returned by GAN.train_step lacks d_loss, g_loss, d_real, d_fake",
    ),
    "nan_metric": (
        _nan_d_fake, "the d_fake returned by GAN.train_step is not a finite number (nan)"
    ),
    "tracker_never_updated": (
        lambda self, results: {**results, "d_loss": self.d_loss_tracker.result() * 0.0},
        "d_loss is 0, as from a tracker that was never updated: call "
        "self.d_loss_tracker.update_state(...) before returning the metrics.",
    ),
    "logits_instead_of_probabilities": (
        lambda self, results: {**results, "d_fake": results["d_fake"] - 2.0},
        "is not a probability: track the mean of D's outputs, "
        "keras.ops.mean(keras.ops.sigmoid(logits)).",
    ),
}


@pytest.mark.parametrize("make_result, hint", WRONG_METRICS.values(), ids=WRONG_METRICS.keys())
def test_wrong_metrics_are_rejected_with_specific_hint(make_result, hint):
    assert hint in failure(check_train_step, gan(_returning(make_result)))


def test_noise_of_fixed_size_gets_latent_dim_hint():
    def train_step(self, real_images):
        self.latent_dim = 100
        return _reference(self, real_images)

    message = failure(check_train_step, gan(train_step))
    assert message.startswith("GAN.train_step(<tensor of shape (12, 28, 28, 1)>) raised ValueError")
    assert message.endswith(
        "draw noise of shape (batch_size, self.latent_dim), not a fixed size."
    )


def test_discriminator_called_twice_on_the_same_images_passes(capsys):
    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0] // self.k
        for real in ops.split(real_images, self.k):
            d_loss, real_logits = self.d_update(real, self.noise(batch_size))
            real_logits = self.discriminator(real, training=True)
        noise = self.noise(batch_size)
        g_loss, fake_logits = self.g_update(noise)
        fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
        return self.results(d_loss, g_loss, real_logits, fake_logits)

    check_train_step(gan(train_step))
    assert capsys.readouterr().out == SUCCESS
