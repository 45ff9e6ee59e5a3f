"""The ring of Gaussians and its mode-coverage measure (gan_lab.ring)."""

import numpy as np
import pytest

from gan_lab.ring import MODES, RADIUS, STD, mode_coverage, ring_centers, ring_dataset, sample_ring


def test_ring_centers_lie_evenly_on_the_circle():
    centres = ring_centers()
    assert centres.shape == (MODES, 2)
    assert np.allclose(np.linalg.norm(centres, axis=1), RADIUS)
    assert np.allclose(centres[0], [RADIUS, 0.0], atol=1e-12)
    gaps = np.linalg.norm(np.diff(np.vstack([centres, centres[:1]]), axis=0), axis=1)
    assert np.allclose(gaps, gaps[0])


def test_sample_ring_is_seeded_float32_and_near_the_centres():
    first, second = sample_ring(500, np.random.default_rng(3)), sample_ring(500, np.random.default_rng(3))
    assert first.dtype == np.float32 and first.shape == (500, 2) and np.array_equal(first, second)
    nearest = np.linalg.norm(first[:, None] - ring_centers()[None], axis=-1).min(axis=1)
    assert nearest.max() < 6 * STD


def test_sample_ring_refuses_a_seed_in_place_of_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        sample_ring(10, 42)


def test_real_data_covers_every_mode_with_high_quality():
    result = mode_coverage(sample_ring(4000, np.random.default_rng(0)))
    assert result["modes_covered"] == MODES and result["high_quality"] > 0.98
    assert sum(result["per_mode"]) == pytest.approx(4000 * result["high_quality"])


def test_a_collapsed_generator_covers_one_mode_with_perfect_quality():
    collapsed = np.repeat(ring_centers()[2:3], 1000, axis=0)
    assert mode_coverage(collapsed)["modes_covered"] == 1 and mode_coverage(collapsed)["high_quality"] == 1.0


def test_points_between_modes_are_low_quality_and_cover_nothing():
    between = np.zeros((1000, 2))  # the centre of the ring
    assert mode_coverage(between) == {"modes_covered": 0, "high_quality": 0.0, "per_mode": [0] * MODES}


def test_a_mode_with_under_one_percent_of_samples_is_not_covered():
    points = np.vstack([np.repeat(ring_centers()[:1], 995, axis=0), np.repeat(ring_centers()[1:2], 5, axis=0)])
    assert mode_coverage(points)["modes_covered"] == 1


def test_mode_coverage_rejects_points_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(n, 2\), got \(10, 3\)"):
        mode_coverage(np.zeros((10, 3)))


def test_non_finite_points_count_as_low_quality():
    points = np.repeat(ring_centers()[:1], 10, axis=0)
    points[:5] = np.nan
    assert mode_coverage(points)["high_quality"] == 0.5


def test_ring_dataset_yields_batches_of_the_ring():
    batch = next(iter(ring_dataset(16, seed=1)))
    assert tuple(batch.shape) == (16, 2) and batch.dtype.name == "float32"
