"""The Lab06 train_step requirements, judged from one recorded step on the tiny conditional models."""

import numpy as np

from ._conditional_recording import (
    IMAGE,
    SPLIT,
    STEP_CLASSES,
    STEP_LATENT,
    Sightings,
    recorded_conditional,
    tiny_models,
)
from ._harness import CheckFailed, call_student
from ._recording import Recording, recorded_sgd
from ._train_step import (
    _SEED_HINT,
    GeneratorWords,
    require_changes_only_in_updates,
    require_discriminator_updates,
    require_generator_update,
    require_order,
)
from .lab03 import _require_metrics, _require_training_mode, _vet_update

_MINIBATCH = 12
_LEARNING_RATE = 0.01
_SEED = 1234
_FAKE_LOGITS = ("fake_logits = self.discriminator([self.generator([noise, fake_labels], training=True), "
                "fake_labels], ...)")
_PAIR = "pair each image with the label it was drawn or generated for, otherwise D can ignore the label"
_GENERATOR_WORDS = GeneratorWords(
    draw="noise and labels", judged="D(G(z, y), y)", minimise="minimise generator_loss(fake_logits)",
    call="generator_loss(fake_logits), whose default is saturating=False", setting="",
)


class _Batch(tuple):
    """The (images, labels) batch, shown by its shapes in a hint."""

    def __repr__(self):
        return f"(<images of shape {tuple(self[0].shape)}>, <labels of shape {tuple(self[1].shape)}>)"


def _batch_labels(rng, k):
    """Labels of k minibatches, each with several classes and different from the others."""
    while True:
        labels = rng.integers(0, STEP_CLASSES, k * _MINIBATCH).astype("int32")
        minibatches = labels.reshape(k, _MINIBATCH)
        if all(len(set(m)) > 2 for m in minibatches) and len({m.tobytes() for m in minibatches}) == k:
            return labels


def _require_fake_labels(checks, sightings):
    """Require whole-number labels in [0, num_classes) for the generator, not one class for all."""
    given = [seen.labels for seen in sightings.calls if seen.model == "generator"]
    values = np.concatenate(given) if given else np.zeros(0)
    odd = values[values != np.round(values)]
    checks.require(
        not len(odd),
        f"self.generator was given the label {odd[0] if len(odd) else 0:g}, not a whole number: labels "
        "are int class ids, fake_labels = self.sample_labels(batch_size).",
    )
    outside = values[(values < 0) | (values >= STEP_CLASSES)]
    checks.require(
        not len(outside),
        f"self.generator was given the label {outside[0] if len(outside) else 0:g}, outside "
        f"[0, num_classes) = [0, {STEP_CLASSES}): draw the labels with self.sample_labels(batch_size), "
        "which follows self.num_classes.",
    )
    same = [labels[0] for labels in given if len(labels) > 1 and np.all(labels == labels[0])]
    checks.require(
        not same,
        f"self.generator was given the same label ({same[0] if same else 0:g}) for every "
        "image: draw one label per image, fake_labels = self.sample_labels(batch_size), so that it "
        "learns every class.",
    )


def _require_fresh_noise(checks, sightings, k, setting):
    """Require new noise for each discriminator step (the labels alone would make new fakes)."""
    steps = [{row.tobytes() for seen in sightings.calls if seen.model == "generator" and seen.update == u
              for row in seen.inputs} for u in range(k)]
    checks.require(
        sum(map(len, steps)) == len(set().union(*steps)),
        f"{setting}, the discriminator steps reused the same noise: draw new noise inside the loop, for "
        f"each step ({_SEED_HINT}).",
    )


def _where(name, seen, k):
    if seen.update < k:
        return f"discriminator update {seen.update + 1} of {k}"
    return "the generator update" if seen.update == k else name


def _require_pairs(checks, name, sightings, images, labels, k):
    """Require that D judges each real image with its own label, each fake with the one it was made for."""
    index = {row.tobytes(): i for i, row in enumerate(images.reshape(len(images), -1))}
    made = {}
    for seen in sightings.calls:
        if seen.model == "generator":
            made.update({row.tobytes(): label for row, label in zip(seen.outputs, seen.labels)})
    minibatches = [m.astype(np.float32) for m in labels.reshape(k, -1)]
    fake_labels = [seen.labels for seen in sightings.calls if seen.model == "generator"]
    real_hint = fake_hint = None
    for seen in (s for s in sightings.calls if s.model == "discriminator"):
        rows = [row.tobytes() for row in seen.inputs]
        real = np.array([key in index for key in rows], bool)
        got = seen.labels[real]
        mine = labels[[index[key] for key in np.array(rows, object)[real]]].astype(np.float32)
        if real_hint is None and not np.array_equal(got, mine):
            where = _where(name, seen, k)
            if any(np.array_equal(got, fake) for fake in fake_labels):
                real_hint = (f"{where} judged the real images with the fake labels, not with their own: "
                             f"pass each real image with its label from the batch, "
                             f"self.discriminator([real, real_labels], ...); {_PAIR}.")
            else:
                real_hint = (f"{where} judged the real images with labels that are not theirs: split the "
                             f"labels with the images, in the same way: {SPLIT}; {_PAIR}.")
        fake = np.array([key in made for key in rows], bool)
        got = seen.labels[fake]
        meant = np.array([made[key] for key in np.array(rows, object)[fake]], np.float32)
        if fake_hint is None and not np.array_equal(got, meant):
            where = _where(name, seen, k)
            if any(np.array_equal(got, m) for m in minibatches):
                fake_hint = (f"{where} judged the generated images with the real images' labels, not "
                             "with the labels they were generated for: give the discriminator the "
                             f"fake_labels you gave the generator, {_FAKE_LOGITS}; {_PAIR}.")
            else:
                fake_hint = (f"{where} judged the generated images with other labels than the ones they "
                             "were generated for: give self.generator and self.discriminator the same "
                             f"fake_labels, {_FAKE_LOGITS}; {_PAIR}.")
    checks.require(real_hint is None, real_hint)
    checks.require(fake_hint is None, fake_hint)


def judge_one_step(checks, name, GAN, k):
    """Run one train_step of a fresh conditional GAN on the tiny models and judge what it did."""
    import tensorflow as tf

    class_name = name.split(".")[0]
    recording, sightings = Recording({}, _vet_update), Sightings()
    for model_name, model in tiny_models().items():  # the wrappers need the recording first
        recording.models[model_name] = recorded_conditional(model, model_name, recording, sightings,
                                                            k * _MINIBATCH)
    gan = call_student(
        class_name, GAN, generator=recording.models["generator"],
        discriminator=recording.models["discriminator"], latent_dim=STEP_LATENT,
        num_classes=STEP_CLASSES, k=k, seed=_SEED,
    )
    call_student(
        f"{class_name}.compile", gan.compile,
        d_optimizer=recorded_sgd("d_optimizer", recording, _LEARNING_RATE),
        g_optimizer=recorded_sgd("g_optimizer", recording, _LEARNING_RATE),
    )
    rng = np.random.default_rng(k)
    images = rng.uniform(-1.0, 1.0, (k * _MINIBATCH, *IMAGE)).astype(np.float32)
    labels = _batch_labels(rng, k)
    recording.clear()
    sightings.calls = []
    try:
        result = call_student(name, gan.train_step, _Batch((tf.constant(images), tf.constant(labels))))
    except CheckFailed:
        if sightings.failure is not None:
            raise sightings.failure from None
        raise
    setting = f"with k={k} and a batch of {len(images)} images"
    require_order(checks, name, recording.updates, k, setting, split_code=SPLIT)
    require_changes_only_in_updates(
        checks, name, recording.start, recording.updates, recording.weights()
    )
    _require_fake_labels(checks, sightings)
    _require_pairs(checks, name, sightings, images, labels, k)
    _require_fresh_noise(checks, sightings, k, setting)
    # The recorded discriminator rows are [image, one_hot(label)]: so are the batch's, now that
    # every image is known to come with its own label.
    joined = np.concatenate([images.reshape(len(images), -1), np.eye(STEP_CLASSES)[labels]], axis=1)
    require_discriminator_updates(
        checks, recording.updates[:k], joined.astype(np.float32), setting, split_code=SPLIT,
        real_images="images", fake_logits=_FAKE_LOGITS,
    )
    require_generator_update(checks, recording.updates, saturating=False, words=_GENERATOR_WORDS,
                             latent=STEP_LATENT)
    _require_training_mode(checks, name, recording.calls)
    _require_metrics(checks, name, result)
