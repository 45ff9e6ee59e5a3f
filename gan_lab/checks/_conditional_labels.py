"""How a conditional model uses its label: one code per class, of depth num_classes, not a number."""

from collections import namedtuple

import numpy as np

from ._conditional_inputs import CATEGORIES, call_conditional, changed_weights
from ._harness import to_numpy

_DEGREE = 6  # of the polynomial in the class id that fits the outputs of a model using it as a number
_INVALID = 3  # the label num_classes + 3: keras.ops.one_hot gives it the all-zero code
_SAME = 1e-4  # outputs closer than this share of the inputs' effect count as the same
_SMOOTH = 0.9  # share of the label's effect that polynomial explains for a number (~0.2 for codes)

_Findings = namedtuple("_Findings", "grid same_pairs like_invalid")


def _label_findings(model, inputs, classes, run):
    """Each input with every label: which labels give the same outputs, and the outputs."""
    n = len(inputs)
    first = np.repeat(inputs, classes, axis=0)
    labels = np.tile(np.arange(classes, dtype="int32"), n)
    grid = run(model, first, labels).reshape(n, classes, -1).astype(np.float64)
    tolerance = _SAME * float(np.mean(np.abs(grid - grid.mean(axis=0)))) + 1e-12
    gaps = np.mean(np.abs(grid[:, :, None] - grid[:, None, :]), axis=(0, 3))
    pairs = [(a, b) for a in range(classes) for b in range(a + 1, classes) if gaps[a, b] <= tolerance]
    try:
        invalid = call_conditional(model, inputs, np.full(n, classes + _INVALID, "int32"))
        invalid = to_numpy(invalid, "output")
        like_invalid = float(np.mean(np.abs(invalid.reshape(n, -1) - grid[:, -1]))) <= tolerance
    except Exception:  # noqa: BLE001 - an Embedding rejects the invalid label: nothing to see
        like_invalid = False
    return _Findings(grid, pairs, like_invalid)


def _perturbed(value, index):
    # Weights that start at zero or tiny values (e.g. an Embedding with a zeros initializer) hide
    # how the label flows through the model; random weights of a usual size show it.
    rng = np.random.default_rng(100 + index)
    return value + rng.normal(0.0, 0.1 * float(np.std(value)) + 0.05, value.shape)


def _findings(model, inputs, classes, run):
    """The label findings, with random weights when the model's own make labels look alike."""
    findings = _label_findings(model, inputs, classes, run)
    if findings.same_pairs or findings.like_invalid:
        with changed_weights(model, _perturbed):
            findings = _label_findings(model, inputs, classes, run)
    return findings


def _numberlike(grid):
    """The share of the label's effect that a low-degree polynomial of the class id explains.

    Near 1 when the label enters as a number (the outputs are a smooth function of it); for codes
    drawn independently for each class, about _DEGREE / (classes - 1).
    """
    classes = grid.shape[1]
    basis, _ = np.linalg.qr(np.vander(np.linspace(-1.0, 1.0, classes), _DEGREE + 1))
    centred = grid - grid.mean(axis=1, keepdims=True)
    fitted = np.einsum("jk,lk,ilf->ijf", basis, basis, centred)
    total = float(np.sum(centred**2))
    return 1.0 - float(np.sum((centred - fitted) ** 2)) / total if total > 0 else 0.0


def require_label_used(checks, model, inputs, classes, what, words, run):
    """Require that every label gets its own code and that labels are not used as numbers.

    words: (what the model gives, e.g. "images", the inputs, a fix for a model ignoring labels).
    """
    outputs, inputs_name, fix = words
    findings = _findings(model, inputs, classes, run)
    pairs = findings.same_pairs
    checks.require(
        len(pairs) < classes * (classes - 1) // 2,
        f"{what} gives the same {outputs} for every label ({inputs_name} with labels 0 to "
        f"{classes - 1}): {fix}",
    )
    a, b = pairs[0] if pairs else (0, 0)
    checks.require(
        not pairs,
        f"{what} gives the same {outputs} for labels {a} and {b} ({inputs_name}): every class needs "
        f"its own code: size layers.Embedding or keras.ops.one_hot with num_classes ({classes}), "
        "not a fixed number, and feed them the int labels unchanged (not scaled or cast to float).",
    )
    checks.require(
        not findings.like_invalid,
        f"{what} gives label {classes - 1} the same {outputs} as the invalid label "
        f"{classes + _INVALID}, as keras.ops.one_hot(labels, depth) does for labels >= depth: "
        f"the depth must be num_classes ({classes}), keras.ops.one_hot(labels, num_classes).",
    )
    checks.require(
        _numberlike(findings.grid) < _SMOOTH,
        f"{what} treats the label as a number: its {outputs} change smoothly with the class id, as "
        f"if 9 were more than 1. {CATEGORIES[0].upper()}{CATEGORIES[1:]}, not as a number into a "
        "Dense layer.",
    )


def require_default_labels(checks, model, inputs, what, words, run):
    """Require that the default model takes the 10 MNIST classes, each with its own code."""
    findings = _findings(model, inputs, 10, run)
    checks.require(
        not findings.same_pairs and not findings.like_invalid,
        f"{what} gives the same {words} for two of the labels 0 to 9 (or an invalid one): the default "
        "must be num_classes=10, and each class needs its own code (one-hot depth num_classes).",
    )
