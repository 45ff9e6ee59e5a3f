"""The Lab03 and Lab06 train_step requirements, judged from a Recording of one step on tiny models."""

from collections import namedtuple

import numpy as np

from ._losses import tiny_discriminator_loss, tiny_generator_loss

_SEED_HINT = (
    "a fixed seed such as seed=42 gives the same noise on every draw: use seed=self.seed_generator"
)
SPLIT = "for real in keras.ops.split(real_images, self.k)"
FAKE_LOGITS = "fake_logits = self.discriminator(self.generator(noise, training=True), ...)"
# The generator update's hints, where the labs word them differently: what to draw anew, what the
# update must raise, how to minimise the loss, the call of the right form, the setting named first.
GeneratorWords = namedtuple("GeneratorWords", "draw judged minimise call setting")
GENERATOR_WORDS = GeneratorWords(  # Lab03's
    draw="noise", judged="D(G(z))",
    minimise="use generator_loss(fake_logits, saturating=self.saturating)",
    call="generator_loss(fake_logits, saturating=self.saturating)", setting="with saturating={}, ",
)


def _rows(call):
    inputs = np.atleast_2d(call.inputs)
    return inputs.reshape(len(inputs), -1).astype(np.float64)


def _last_inputs(calls, model, keep=len):
    """The flattened inputs of the last call of `model` whose rows `keep` accepts, or no rows."""
    # An update is judged on the last calls before it: earlier ones may look at the result of
    # the previous update (e.g. for the metrics).
    rows = [_rows(c) for c in calls if c.model == model]
    return next((r for r in reversed(rows) if keep(r)), np.zeros((0, 1)))


def _changed(before, after):
    return any(not np.array_equal(b, a) for b, a in zip(before, after))


def _first(flags):
    """The 1-based number of the first update whose flag is set, or 0."""
    return next((i + 1 for i, flag in enumerate(flags) if flag), 0)


def _times(n):
    return "once" if n == 1 else f"{n} times"


def require_order(checks, name, updates, k, setting, split_code=SPLIT):
    """Require k discriminator updates, then one generator update; the hint quotes `split_code`."""
    order = "".join("D" if u.optimizer == "d_optimizer" else "G" for u in updates)
    for model, letter in (("discriminator", "D"), ("generator", "G")):
        checks.require(
            letter in order,
            f"{name} never updated the {model}: apply the gradients of its loss with "
            f"self.{letter.lower()}_optimizer.apply(grads, self.{model}.trainable_variables).",
        )
    checks.require(
        not order.startswith("G"),
        f"{name} updated the generator before the discriminator: do the k discriminator updates "
        "first, then one generator update.",
    )
    checks.require(
        "GD" not in order,
        f"{setting}, {name} updated the generator between discriminator updates: update it once, "
        "after the loop of k discriminator steps.",
    )
    checks.require(
        order.count("D") == k,
        f"{setting}, {name} updated the discriminator {_times(order.count('D'))}, expected k={k} "
        f"times: loop over k minibatches ({split_code}), with one discriminator update each.",
    )
    checks.require(
        order.count("G") == 1,
        f"{name} updated the generator {_times(order.count('G'))}: update it once per step, after "
        "the k discriminator updates.",
    )


def require_changes_only_in_updates(checks, name, start, updates, end):
    """Require that the weights change only inside the optimizers' updates."""
    snapshots = [start] + [weights for u in updates for weights in (u.before, u.after)] + [end]
    for model in ("generator", "discriminator"):
        checks.require(
            not any(_changed(a[model], b[model]) for a, b in zip(snapshots[::2], snapshots[1::2])),
            f"{name} changed the {model}'s weights outside the optimizers' updates: change them "
            "only with self.d_optimizer.apply(...) and self.g_optimizer.apply(...).",
        )


def _split_rows(update, index):
    """The batch indices of the real images, and the fake images, D was last called on."""

    def is_real(rows):
        return np.array([row.astype(np.float32).tobytes() in index for row in rows], bool)

    real = _last_inputs(update.calls, "discriminator", lambda rows: is_real(rows).any())
    fake = _last_inputs(update.calls, "discriminator", lambda rows: (~is_real(rows)).any())
    return (
        {index[row.astype(np.float32).tobytes()] for row in real[is_real(real)]},
        np.unique(fake[~is_real(fake)], axis=0),
    )


def require_discriminator_updates(checks, updates, batch, setting, split_code=SPLIT,
                                  real_images="real_images", fake_logits=FAKE_LOGITS):
    """Require that each D update lowers D's loss on its images, with a fresh real minibatch.

    `split_code`, `real_images` and `fake_logits` are the code the hints quote (Lab03's by default).
    """
    flat = batch.reshape(len(batch), -1)
    index = {row.tobytes(): i for i, row in enumerate(flat)}
    split = [_split_rows(u, index) for u in updates]
    step = "discriminator update {} of " + str(len(updates))
    number = _first(
        [not _changed(u.before["discriminator"], u.after["discriminator"]) for u in updates]
    )
    checks.require(
        not number,
        f"{step.format(number)} left the discriminator's weights unchanged: apply the gradients of "
        "d_loss with respect to self.discriminator.trainable_variables.",
    )
    number = _first([not real for real, _ in split])
    checks.require(
        not number,
        f"{step.format(number)} was made without calling the discriminator on real images from "
        f"the batch: pass it a minibatch of {real_images} unchanged (they are already in [-1, 1]).",
    )
    number = _first([not len(fake) for _, fake in split])
    checks.require(
        not number,
        f"{step.format(number)} was made without calling the discriminator on generated images: "
        f"compute {fake_logits}.",
    )
    losses = [
        [tiny_discriminator_loss(weights["discriminator"], flat[sorted(real)].astype(float), fake)
         for weights in (u.before, u.after)]
        for u, (real, fake) in zip(updates, split)
    ]
    number = _first([after >= before for before, after in losses])
    before, after = losses[number - 1] if number else (0, 0)
    checks.require(
        not number,
        f"{step.format(number)} raised the discriminator's loss on its images from {before:.6g} to "
        f"{after:.6g}: minimise discriminator_loss(real_logits, fake_logits), real logits first.",
    )
    sizes = [len(real) for real, _ in split]
    checks.require(
        len(updates) == 1 or max(sizes) < len(batch),
        f"{setting}, each discriminator step used the whole batch of real images: split it into "
        f"k minibatches, one per step: {split_code}.",
    )
    seen = [i for real, _ in split for i in real]
    checks.require(
        len(seen) == len(set(seen)),
        f"{setting}, the discriminator steps reused the same real images: give each step its own "
        f"minibatch: {split_code}.",
    )
    minibatch = len(batch) // len(updates)
    checks.require(
        all(size == minibatch for size in sizes),
        f"{setting}, the discriminator steps used {sizes} real images, expected {minibatch} each: "
        f"split the batch into k equal minibatches: {split_code}.",
    )
    number = _first([len(fake) != len(real) for real, fake in split])
    real, fake = split[number - 1] if number else ((), ())
    checks.require(
        not number,
        f"{step.format(number)} used {len(fake)} generated images for {len(real)} real ones: draw "
        f"one noise vector per real image, batch_size = keras.ops.shape({real_images})[0] // self.k.",
    )
    keys = [row.tobytes() for _, fake in split for row in fake]
    checks.require(
        len(keys) == len(set(keys)),
        f"{setting}, the discriminator steps reused the same generated images: draw new noise "
        f"inside the loop, for each step ({_SEED_HINT}).",
    )


def require_generator_update(checks, updates, saturating, words=GENERATOR_WORDS, latent=None):
    """Require that the G update raises D(G(z)) on new noise, following its loss's gradient.

    With `latent` (Lab06), the generator's rows are [noise, one_hot(label)] with `latent` columns
    of noise, and D judges each image joined with its label's one-hot row.
    """
    update = updates[-1]
    inputs = _last_inputs(update.calls, "generator")
    checks.require(
        len(inputs) > 0,
        "the generator update used no new call of self.generator: after the discriminator "
        f"updates, draw new {words.draw} and compute the generator loss inside its own "
        "GradientTape.",
    )
    earlier = {row[:latent].astype(np.float32).tobytes() for u in updates[:-1] for c in u.calls
               if c.model == "generator" for row in _rows(c)}
    checks.require(
        not any(row[:latent].astype(np.float32).tobytes() in earlier for row in inputs),
        f"the generator update reused the noise of a discriminator step: draw new noise for it "
        f"({_SEED_HINT}).",
    )
    checks.require(
        _changed(update.before["generator"], update.after["generator"]),
        "the generator update left the generator's weights unchanged: apply the gradients of "
        "g_loss with respect to self.generator.trainable_variables.",
    )
    d, labels = update.before["discriminator"], None if latent is None else inputs[:, latent:]
    before, right = tiny_generator_loss(update.before["generator"], d, inputs, saturating, labels)
    after, _ = tiny_generator_loss(update.after["generator"], d, inputs, saturating, labels)
    checks.require(
        after < before,
        f"the generator update made {words.judged} smaller, raising its loss from {before:.6g} to "
        f"{after:.6g}: {words.minimise}, which labels the fakes as real.",
    )
    _, other = tiny_generator_loss(update.before["generator"], d, inputs, not saturating, labels)
    got = np.concatenate([np.ravel(g if g is not None else np.zeros_like(w))
                          for g, w in zip(update.grads["generator"], update.before["generator"])])
    form, wrong = ("minimax", "non-saturating") if saturating else ("non-saturating", "minimax")
    checks.require(
        _cosine(got, right) > _cosine(got, other),
        f"{words.setting.format(saturating)}the generator update followed the gradient of the "
        f"{wrong} loss instead of the {form} one: call {words.call}.",
    )


def _cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
