"""Checks for Lab03's evaluation exercise: the student's Inception Score and Frechet distance.

Both are compared with the kit's own metrics in gan_lab.metrics on fixed cases; a wrong value gets
the hint of the typical mistake that gives it. The student's function must not call the kit.
"""

import sys

import numpy as np

from gan_lab import metrics

from ._harness import CheckFailed, Checklist, call_student, student_name, to_numpy

_EPS = metrics.EPS
_IS_FIX = "compute exp(mean over samples of sum_y p(y|x) (log p(y|x) - log p(y))), p(y) the mean row."
_LOG_BASE = "use the natural logarithm (np.log) with exp: log2 or log10 measure the KL in other units."
_PRODUCT = "p(y) is the mean of the rows p(y|x) over the samples, not their product."
_FD_FIX = "compute ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)) with d x d covariances."
_WRONG_AXIS = ("the covariances must be d x d, one row and column per feature: use np.cov(features, "
               "rowvar=False); np.cov(features) treats each sample as a variable (n x n).")


def _call(name, fn, arrays):
    """Call fn on copies of `arrays`; return its result and the gan_lab.metrics functions it ran."""
    copies = [array.copy() for array in arrays]
    kit, ran = vars(metrics), []

    def record(frame, event, _arg):
        if event == "call" and frame.f_globals is kit:
            ran.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(record)
    try:
        result = call_student(name, fn, *copies)
    finally:
        sys.setprofile(previous)
    changed = any(not np.array_equal(copy, array) for copy, array in zip(copies, arrays))
    return result, ran, changed


def _value(checks, name, fn, arrays, changed_hint, shape_hint):
    """Call the student's function and return its result as a float, after the common checks."""
    result, ran, changed = _call(name, fn, arrays)
    checks.require(
        not ran,
        f"{name} calls the kit's gan_lab.metrics.{ran[0] if ran else ''}: write the formula yourself "
        "with NumPy or keras.ops; the check compares your function with that one.",
    )
    checks.require(not changed, f"{name} changed the array it was given: {changed_hint}")
    array = to_numpy(result, f"the result of {name}")
    checks.require(
        not np.iscomplexobj(array),
        f"{name} returned a complex number ({complex(array.reshape(-1)[0]) if array.size else 0j:.6g}): "
        "rounding leaves a tiny imaginary part, so return the real part (np.real(...) or .real).",
    )
    checks.require(
        array.shape == (),
        f"{name} must return one number but returned shape {array.shape}: {shape_hint}",
    )
    return float(array)


def _close(got, expected, scale, rtol):
    return bool(np.isfinite(got) and abs(got - expected) <= rtol * (abs(expected) + scale))


def _require(checks, name, got, expected, label, mistakes, fallback, scale=0.0):
    """Require `got` to match one of `expected`; when wrong, name the first of mistakes() giving it."""
    right = any(_close(got, value, scale, 2e-4) for value in expected)
    if not right:
        with np.errstate(all="ignore"):
            fallback = next((hint for wrong, hint in mistakes() if _close(got, wrong, scale, 2e-3)), fallback)
    checks.require(right, f"{name} gives {got:.6g} for {label}, expected {expected[0]:.6g}: {fallback}")


# ---------------------------------------------------------------- the Inception Score


def _rows(seed, n, classes, alpha=0.2, floor=0.02):
    """n rows of class probabilities: Dirichlet draws mixed with the uniform distribution."""
    draws = np.random.default_rng(seed).dirichlet(np.full(classes, alpha), size=n)
    return (1 - floor) * draws + floor / classes


def _score_cases():
    zeros = np.array([[0.5, 0.5, 0, 0, 0], [0, 0, 1, 0, 0], [0.2, 0, 0.3, 0, 0.5],
                      [0, 0.1, 0, 0.9, 0], [0, 0, 0, 0, 1], [0.25, 0.25, 0.25, 0.25, 0]])
    spread = np.eye(10)[np.random.default_rng(7).permutation(np.arange(20) % 10)]
    return [
        ("8 rows of 10 class probabilities", _rows(1, 8, 10), _IS_FIX),
        ("7 rows over 3 classes", _rows(2, 7, 3),
         "it must work for any number of classes: take it from the array's shape, not a fixed 10."),
        ("4 uniform rows over 10 classes", np.full((4, 10), 0.1),
         "unsure predictions (uniform rows) must score 1: p(y|x) = p(y) makes every KL 0."),
        ("20 one-hot rows covering each of 10 classes twice", spread,
         "confident predictions spread evenly over 10 classes must score 10."),
        ("5 one-hot rows all of class 3", np.eye(10)[[3] * 5],
         "confident predictions that all name one class must score 1."),
        ("6 rows over 5 classes with exact zeros, e.g. [0.5, 0.5, 0, 0, 0]", zeros, _IS_FIX),
    ]


def _score_mistakes(p):
    """Scores that typical mistakes give for the probabilities p, each with its hint."""
    def log(x):
        return np.log(x + _EPS)

    def score(marginal):
        return np.exp(np.mean(np.sum(p * (log(p) - log(marginal)), axis=1)))

    marginal = p.mean(axis=0)
    kl = np.sum(p * (log(p) - log(marginal)), axis=1)
    return [
        (np.exp(np.mean(np.sum(marginal * (log(marginal) - log(p)), axis=1))),
         "the KL is the wrong way round: KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y))."),
        (kl.mean(), "the exp is missing: the score is exp(mean KL), not the mean KL."),
        (np.exp(kl.mean() / np.log(2)), _LOG_BASE),
        (np.exp(kl.mean() / np.log(10)), _LOG_BASE),
        (kl.mean() / np.log(2), _LOG_BASE),
        (1.0, "p(y) must be the mean of p(y|x) over all samples (axis 0), one distribution for the "
              "whole set, not each sample's own p(y|x)."),
        (score(p.mean(axis=1, keepdims=True)),
         "p(y) is the mean over the samples (axis=0), not over the classes (axis=1)."),
        (score(np.prod(p, axis=0)), _PRODUCT),
        (np.exp(np.mean(np.sum(p * (log(p) - np.log(np.prod(p, axis=0))), axis=1))), _PRODUCT),
        (score(p.sum(axis=0)), "p(y) is the mean of p(y|x) over the samples, not their sum."),
        (np.mean(np.exp(kl)), "exp was applied to each sample's KL before averaging: take the mean "
                              "KL over the samples first, then exp once."),
        (np.exp(kl.sum()), "the KL divergences were summed over the samples: E_x is their mean."),
    ]


def check_inception_score(inception_score):
    """Check inception_score(probabilities) = exp(E_x KL(p(y|x) || p(y))) against the kit's score."""
    name = student_name(inception_score, "inception_score")
    checks = Checklist(name)
    for label, p, fallback in _score_cases():
        got = _value(checks, name, inception_score, [p],
                     "work on a new array (p = probabilities + 1e-12, not probabilities += 1e-12).",
                     "take the mean of the per-sample KL divergences, then exp.")
        has_zeros = bool((p == 0).any())
        checks.require(
            np.isfinite(got),
            f"{name} gives {got} for {label}: " + (
                "0 * log 0 must count as 0: add a tiny epsilon inside the logs (np.log(p + 1e-12)) "
                "or keep only the terms with p > 0." if has_zeros
                else "keep every log and exp finite (the probabilities here are all positive)."),
        )
        expected = metrics._score_from_probabilities(p)
        _require(checks, name, got, [expected], label, lambda: _score_mistakes(p), fallback)
    checks.passed()


# ---------------------------------------------------------------- the Frechet distance


def _features(seed, n, d, mean, rank=None, noise=0.0):
    """n correlated features around `mean`; with `rank`, close to a rank-dimensional subspace."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(rank or d, d))
    return rng.normal(size=(n, rank or d)) @ mixing + noise * rng.normal(size=(n, d)) + mean


def _distance_cases():
    main_a = _features(11, 40, 4, [0.0, 1.0, -1.0, 0.5])
    same = _features(13, 50, 5, 0.0)
    shift = np.array([1.5, -2.0, 0.0])
    shifted = _features(14, 30, 3, 1.0)
    return [
        ("features of shape (40, 4) with different means and covariances",
         main_a, _features(12, 40, 4, [1.0, -0.5, 0.5, 0.0]), _FD_FIX),
        ("two identical sets of shape (50, 5)", same, same.copy(),
         "identical sets must be at distance 0 (up to rounding)."),
        (f"a set of shape (30, 3) and the same set moved by {shift.tolist()}", shifted,
         shifted + shift, "for equal covariances the distance is ||mu_a - mu_b||^2 = 6.25 here."),
        ("sets of shapes (300, 16) and (200, 16)", _features(15, 300, 16, 0.5),
         _features(16, 200, 16, -0.5), "the two sets can differ in size: " + _FD_FIX),
        ("near-singular covariances, shapes (60, 8) and (45, 8)",
         _features(17, 60, 8, 1.0, rank=3, noise=1e-5), _features(18, 45, 8, 0.0, rank=3, noise=1e-5),
         "the covariances here are near-singular: clip tiny negative eigenvalues at 0 before the sqrt."),
    ]


def _moments(a, b, ddof):
    """The kit's means and covariances of both sets (ddof=1; 0 divides by n), and the distance's parts."""
    (mean_a, cov_a), (mean_b, cov_b) = metrics._statistics(a), metrics._statistics(b)
    if ddof == 0:
        cov_a, cov_b = cov_a * (len(a) - 1) / len(a), cov_b * (len(b) - 1) / len(b)
    distance = metrics._frechet_from_statistics(mean_a, cov_a, mean_b, cov_b)
    squared = float(np.sum((mean_a - mean_b) ** 2))
    traces = float(np.trace(cov_a) + np.trace(cov_b))
    return mean_a, mean_b, cov_a, cov_b, distance, squared, traces


def _distance_mistakes(a, b, ddof):
    """Distances that typical mistakes give for the sets a and b, each with its hint."""
    mean_a, mean_b, cov_a, cov_b, distance, squared, traces = _moments(a, b, ddof)
    trace_sqrt = (squared + traces - distance) / 2
    separate = np.trace(metrics._symmetric_sqrt(cov_a) @ metrics._symmetric_sqrt(cov_b))
    mistakes = [
        (squared + traces, "the -2 Tr((S_a S_b)^(1/2)) term is missing."),
        (squared + traces - trace_sqrt, "the trace term needs its factor 2: - 2 Tr((S_a S_b)^(1/2))."),
        (squared + traces - 2 * separate,
         "sqrt(S_a) sqrt(S_b) is not (S_a S_b)^(1/2): take the matrix square root of S_a @ S_b."),
        (np.sqrt(squared) + traces - 2 * trace_sqrt,
         "the distance between the means must be squared: ||mu_a - mu_b||^2 = sum((mu_a - mu_b)**2)."),
        (np.sqrt(distance), "this is the square root of the Frechet distance: return "
                            "||mu_a - mu_b||^2 + Tr(...) itself, with no final sqrt."),
        (squared + traces - 2 * np.trace(np.sqrt(cov_a @ cov_b)),
         "np.sqrt of a matrix takes the square root of each entry: use a matrix square root."),
        (squared + traces - 2 * np.sqrt(max(np.trace(cov_a @ cov_b), 0.0)),
         "Tr((S_a S_b)^(1/2)) is the trace of a matrix square root, not the sqrt of Tr(S_a S_b)."),
    ]
    if len(a) == len(b):
        centred_a, centred_b = a - mean_a, b - mean_b
        for cov_n_a, cov_n_b in [(np.cov(a, ddof=ddof), np.cov(b, ddof=ddof)),
                                 (centred_a @ centred_a.T / (len(a) - ddof),
                                  centred_b @ centred_b.T / (len(b) - ddof))]:
            mistakes.append(
                (metrics._frechet_from_statistics(mean_a, cov_n_a, mean_b, cov_n_b), _WRONG_AXIS))
    return mistakes


def check_frechet_distance(frechet_distance):
    """Check frechet_distance(features_a, features_b) against the kit's Frechet distance."""
    name = student_name(frechet_distance, "frechet_distance")
    checks = Checklist(name)
    for label, a, b, fallback in _distance_cases():
        try:
            got = _value(checks, name, frechet_distance, [a, b],
                         "work on new arrays (centred = features - mean, not features -= mean).",
                         "sum the squared mean difference over the features and take traces.")
        except CheckFailed as failure:
            if len(a) == len(b) or " raised " not in str(failure):
                raise
            raise CheckFailed(f"{failure} (the two sets may differ in size: compute the mean and the d x d "
                              "covariance of each set separately.)") from None
        checks.require(
            np.isfinite(got),
            f"{name} gives {got} for {label}: np.sqrt of a matrix works entry by entry, so use a "
            "matrix square root (eigenvalues, or scipy.linalg.sqrtm), and clip tiny negative "
            "eigenvalues from rounding at 0 before their sqrt.",
        )
        moments = [_moments(a, b, ddof) for ddof in (1, 0)]
        scale = moments[0][5] + moments[0][6]
        _require(checks, name, got, [m[4] for m in moments], label,
                 lambda: _distance_mistakes(a, b, 1) + _distance_mistakes(a, b, 0), fallback, scale)
    checks.passed()
