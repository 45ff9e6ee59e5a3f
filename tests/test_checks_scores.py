"""Lab03 score checks: right Inception Scores and Frechet distances pass, mistakes get hints."""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import sys

import keras
import numpy as np
import pytest
from check_helpers import failure, named

import gan_lab.metrics
from gan_lab.checks import check_frechet_distance, check_inception_score
from gan_lab.metrics import _score_from_probabilities

ops = keras.ops
EPS = 1e-12
IS_SUCCESS = "inception_score: all 36 checks passed\n"
FD_SUCCESS = "frechet_distance: all 30 checks passed\n"


def reference_inception_score(probabilities):
    """The solution notebook's answer."""
    p = np.asarray(probabilities, dtype=np.float64)
    marginal = p.mean(axis=0)  # p(y): the mean prediction over all samples
    kl = np.sum(p * (np.log(p + 1e-12) - np.log(marginal + 1e-12)), axis=1)  # 0 * log 0 counts as 0
    return float(np.exp(kl.mean()))


def reference_frechet_distance(features_a, features_b):
    """The solution notebook's answer."""
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)  # d x d, divided by n - 1
    # Tr((S_a S_b)^(1/2)) sums the square roots of the eigenvalues of S_a S_b; they are real and >= 0
    # up to rounding, so keep their real parts and clip tiny negative ones at 0.
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b).real
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return max(float(distance), 0.0)  # rounding can leave a tiny negative number for equal sets


# ---------------------------------------------------------------- inception_score


def _kl(p, marginal, log):
    return np.sum(p * (log(p) - log(marginal)), axis=1)


def _score(kl_of=_kl, finish=lambda kl: np.exp(np.mean(kl)), log=lambda x: np.log(x + EPS),
           marginal_of=lambda p: p.mean(axis=0)):
    """An inception_score built from its pieces, so that each wrong variant changes one."""
    return named("inception_score")(lambda p: finish(kl_of(p, marginal_of(p), log)))


def _keras_score(probabilities, dtype="float64"):
    p = ops.clip(ops.convert_to_tensor(probabilities, dtype=dtype), keras.backend.epsilon(), 1.0)
    kl = ops.sum(p * (ops.log(p) - ops.log(ops.mean(p, axis=0, keepdims=True))), axis=1)
    return ops.exp(ops.mean(kl))


def _masked_score(p):
    ratio = np.divide(p, p.mean(axis=0), out=np.ones_like(p), where=p > 0)
    return np.exp(np.mean(np.sum(p * np.log(ratio), axis=1)))


@named("inception_score")
def _adding_epsilon_in_place(probabilities):
    probabilities += EPS
    return reference_inception_score(probabilities)


@named("inception_score")
def _unwritten(probabilities):
    raise NotImplementedError()


CORRECT_SCORES = {
    "reference_python_float": reference_inception_score,
    "numpy_scalar": _score(),
    "zero_d_array": _score(finish=lambda kl: np.array(np.exp(kl.mean()))),
    "log2_with_exp2": _score(log=lambda x: np.log2(x + EPS), finish=lambda kl: 2.0 ** kl.mean()),
    "keras_ops_float64_tensor": _keras_score,
    "keras_ops_float32_tensor": lambda p: _keras_score(p, "float32"),
    "masked_zeros": _masked_score,
}


@pytest.mark.parametrize("solution", CORRECT_SCORES.values(), ids=CORRECT_SCORES.keys())
def test_correct_inception_score_passes_and_prints_success_line(solution, capsys):
    check_inception_score(named("inception_score")(solution))
    assert capsys.readouterr().out == IS_SUCCESS


def test_inception_score_with_scipy_xlogy_passes(capsys):
    xlogy = pytest.importorskip("scipy.special").xlogy
    check_inception_score(named("inception_score")(
        lambda p: np.exp(np.mean(np.sum(xlogy(p, p) - xlogy(p, p.mean(axis=0)), axis=1)))))
    assert capsys.readouterr().out == IS_SUCCESS


WRONG_SCORES = {
    "kl_wrong_way_round": (_score(lambda p, m, log: np.sum(m * (log(m) - log(p)), axis=1)),
                           "the KL is the wrong way round"),
    "missing_exp": (_score(finish=np.mean), "inception_score gives 0.824999 for 8 rows of 10 class "
                    "probabilities, expected 2.28188: the exp is missing"),
    "log_base_2": (_score(log=lambda x: np.log2(x + EPS)), "use the natural logarithm"),
    "log_base_10": (_score(log=lambda x: np.log10(x + EPS)), "use the natural logarithm"),
    "marginal_per_sample": (_score(marginal_of=lambda p: p), "not each sample's own p(y|x)"),
    "marginal_over_classes": (_score(marginal_of=lambda p: p.mean(axis=1, keepdims=True)),
                              "not over the classes (axis=1)"),
    "marginal_as_product": (_score(marginal_of=lambda p: np.prod(p, axis=0)), "not their product"),
    "marginal_as_product_without_epsilon": (
        _score(lambda p, m, log: _kl(p, m, np.log), marginal_of=lambda p: np.prod(p, axis=0)),
        "not their product"),
    "marginal_as_sum": (_score(marginal_of=lambda p: p.sum(axis=0)), "not their sum"),
    "exp_per_sample_before_mean": (_score(finish=lambda kl: np.mean(np.exp(kl))),
                                   "exp was applied to each sample's KL before averaging"),
    "sum_over_samples": (_score(finish=lambda kl: np.exp(np.sum(kl))), "summed over the samples"),
    "nan_for_exact_zeros": (_score(log=np.log),
                            "gives nan for 20 one-hot rows covering each of 10 classes twice: 0 * log 0"),
    "per_sample_scores": (_score(finish=np.exp), "must return one number but returned shape (8,)"),
    "no_return": (_score(finish=lambda kl: None), "did you forget a `return` statement?"),
    "changes_its_input_in_place": (_adding_epsilon_in_place, "changed the array it was given"),
    "not_written_yet": (_unwritten, "inception_score is not written yet"),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the student's log(0), sqrt(-1e-12), ...
@pytest.mark.parametrize("solution, phrase", WRONG_SCORES.values(), ids=WRONG_SCORES.keys())
def test_wrong_inception_score_is_rejected_with_specific_one_line_hint(solution, phrase):
    message = failure(check_inception_score, solution)
    assert phrase in message and len(message.splitlines()) == 1


@pytest.mark.parametrize("solution", [
    lambda p: gan_lab.metrics._score_from_probabilities(np.asarray(p)),
    lambda p: _score_from_probabilities(np.asarray(p)),
], ids=["through_the_module", "imported_name"])
def test_inception_score_calling_the_kit_is_rejected_and_profiler_removed(solution):
    message = failure(check_inception_score, named("inception_score")(solution))
    assert message.startswith("inception_score calls the kit's gan_lab.metrics._score_from_probabilities")
    assert "write the formula yourself" in message
    assert sys.getprofile() is None


# ---------------------------------------------------------------- frechet_distance


def _moments(features, ddof=1):
    return np.mean(features, axis=0), np.cov(features, rowvar=False, ddof=ddof)


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _trace_sqrt_eigh(cov_a, cov_b, clip=True):
    values = np.linalg.eigvalsh(_sqrt_psd(cov_a) @ cov_b @ _sqrt_psd(cov_a))
    return np.sqrt(np.clip(values, 0.0, None) if clip else values).sum()


def _distance(trace_sqrt=_trace_sqrt_eigh, ddof=1, factor=2.0, mean_term=lambda d: np.sum(d**2),
              finish=float, moments=_moments):
    """A frechet_distance built from its pieces, so that each wrong variant changes one."""

    @named("frechet_distance")
    def frechet_distance(features_a, features_b):
        (mean_a, cov_a), (mean_b, cov_b) = moments(features_a, ddof), moments(features_b, ddof)
        traces = np.trace(cov_a) + np.trace(cov_b)
        return finish(mean_term(mean_a - mean_b) + traces - factor * trace_sqrt(cov_a, cov_b))

    return frechet_distance


def _keras_distance(features_a, features_b, dtype="float64"):
    def moments(x):
        x = ops.convert_to_tensor(x, dtype=dtype)
        centred = x - ops.mean(x, axis=0)
        return ops.mean(x, axis=0), ops.matmul(ops.transpose(centred), centred) / (x.shape[0] - 1)

    (mean_a, cov_a), (mean_b, cov_b) = moments(features_a), moments(features_b)
    values, vectors = ops.eigh(cov_a)
    root_a = ops.matmul(vectors * ops.sqrt(ops.maximum(values, 0.0)), ops.transpose(vectors))
    middle = ops.matmul(ops.matmul(root_a, cov_b), root_a)
    trace_sqrt = ops.sum(ops.sqrt(ops.maximum(ops.eigh((middle + ops.transpose(middle)) / 2)[0], 0.0)))
    return ops.sum((mean_a - mean_b) ** 2) + ops.trace(cov_a) + ops.trace(cov_b) - 2.0 * trace_sqrt


CORRECT_DISTANCES = {
    "reference_eigvals_of_product": reference_frechet_distance,
    "eigh_symmetric_sqrt_numpy_scalar": _distance(finish=lambda d: d),
    "covariance_over_n": _distance(ddof=0),
    "zero_d_array": _distance(finish=np.asarray),
    "keras_ops_float64_tensor": _keras_distance,
    "keras_ops_float32_tensor": lambda a, b: _keras_distance(a, b, "float32"),
}


@pytest.mark.parametrize("solution", CORRECT_DISTANCES.values(), ids=CORRECT_DISTANCES.keys())
def test_correct_frechet_distance_passes_and_prints_success_line(solution, capsys):
    check_frechet_distance(named("frechet_distance")(solution))
    assert capsys.readouterr().out == FD_SUCCESS


def test_frechet_distance_with_scipy_sqrtm_and_real_part_passes(capsys):
    sqrtm = pytest.importorskip("scipy.linalg").sqrtm
    check_frechet_distance(_distance(lambda cov_a, cov_b: np.trace(sqrtm(cov_a @ cov_b)).real))
    assert capsys.readouterr().out == FD_SUCCESS


def _complex_trace_sqrt(cov_a, cov_b):
    values, vectors = np.linalg.eig(cov_a @ cov_b)
    return np.trace(vectors @ np.diag(np.sqrt(values.astype(complex))) @ np.linalg.inv(vectors))


@named("frechet_distance")
def _centring_in_place(features_a, features_b):
    features_a -= features_a.mean(axis=0)
    features_b -= features_b.mean(axis=0)
    return reference_frechet_distance(features_a, features_b)


@named("frechet_distance")
def _mean_of_differences(features_a, features_b):
    difference = np.mean(features_a - features_b, axis=0)  # needs sets of equal size
    return _distance(mean_term=lambda _: np.sum(difference**2))(features_a, features_b)


WRONG_DISTANCES = {
    "trace_term_missing": (_distance(factor=0.0), "the -2 Tr((S_a S_b)^(1/2)) term is missing"),
    "factor_1_not_2": (_distance(factor=1.0), "frechet_distance gives 20.8733 for features of shape (40, 4) "
                       "with different means and covariances, expected 12.9216: the trace term needs its "
                       "factor 2"),
    "separate_square_roots": (_distance(lambda a, b: np.trace(_sqrt_psd(a) @ _sqrt_psd(b))),
                              "sqrt(S_a) sqrt(S_b) is not (S_a S_b)^(1/2)"),
    "mean_distance_not_squared": (_distance(mean_term=np.linalg.norm), "the means must be squared"),
    "square_root_of_distance": (_distance(finish=np.sqrt), "this is the square root of the Frechet distance"),
    "covariance_over_wrong_axis": (_distance(moments=lambda x, ddof: (np.mean(x, 0), np.cov(x, ddof=ddof))),
                                   "np.cov(features) treats each sample as a variable"),
    "sqrt_of_trace": (_distance(lambda a, b: np.sqrt(np.trace(a @ b))), "not the sqrt of Tr(S_a S_b)"),
    "entrywise_sqrt_of_product": (_distance(lambda a, b: np.trace(np.sqrt(a @ b))),
                                  "np.sqrt of a matrix takes the square root of each entry"),
    "complex_not_reduced_to_real": (_distance(_complex_trace_sqrt, finish=lambda d: d),
                                    "returned a complex number"),
    "negative_eigenvalues_not_clipped": (_distance(lambda a, b: _trace_sqrt_eigh(a, b, clip=False)),
                                         "gives nan for near-singular covariances"),
    "per_feature_terms": (_distance(mean_term=lambda d: d**2, finish=lambda d: d),
                          "must return one number but returned shape (4,)"),
    "needs_equal_sizes": (_mean_of_differences, "raised ValueError: operands could not be broadcast together "
                          "with shapes (300,16) (200,16) (the two sets may differ in size: compute the mean "
                          "and the d x d covariance of each set separately.)"),
    "changes_its_inputs_in_place": (_centring_in_place, "changed the array it was given"),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("solution, phrase", WRONG_DISTANCES.values(), ids=WRONG_DISTANCES.keys())
def test_wrong_frechet_distance_is_rejected_with_specific_one_line_hint(solution, phrase):
    message = failure(check_frechet_distance, solution)
    assert phrase in message and len(message.splitlines()) == 1


@pytest.mark.parametrize("solution, called", [
    (lambda a, b: gan_lab.metrics.frechet_distance(a, b), "frechet_distance"),
    (lambda a, b: gan_lab.metrics._frechet_from_statistics(*_moments(a), *_moments(b)),
     "_frechet_from_statistics"),
    (_distance(lambda a, b: _trace_sqrt_eigh(gan_lab.metrics._symmetric_sqrt(a), b)), "_symmetric_sqrt"),
], ids=["kit_distance", "kit_distance_from_statistics", "kit_square_root"])
def test_frechet_distance_calling_the_kit_is_rejected_and_profiler_removed(solution, called):
    message = failure(check_frechet_distance, named("frechet_distance")(solution))
    assert message.startswith(f"frechet_distance calls the kit's gan_lab.metrics.{called}: write the")
    assert sys.getprofile() is None


def test_score_checks_put_back_a_profiler_that_was_already_set():
    def outer_profiler(frame, event, arg):
        pass

    sys.setprofile(outer_profiler)
    try:
        with pytest.raises(AssertionError, match="calls the kit's"):
            check_frechet_distance(lambda a, b: gan_lab.metrics.frechet_distance(a, b))
        check_inception_score(reference_inception_score)
        assert sys.getprofile() is outer_profiler
    finally:
        sys.setprofile(None)
