"""Tests for gan_lab.plot: image grids from generator output and from raw MNIST."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gan_lab.plot import image_grid, to_unit_range  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def shown_pixels(figure):
    return [ax.images[0].get_array() for ax in figure.axes if ax.images]


def test_generator_output_in_minus_one_to_one_is_mapped_to_unit_range():
    images = np.array([-1.0, 0.0, 1.0], dtype=np.float32).reshape(1, 1, 3, 1).repeat(4, axis=0)
    figure = image_grid(images)
    np.testing.assert_allclose(shown_pixels(figure)[0].ravel(), [0.0, 0.5, 1.0])


def test_uint8_pixels_are_mapped_to_unit_range():
    images = np.array([[[0, 255]]], dtype=np.uint8).repeat(3, axis=0)
    np.testing.assert_allclose(shown_pixels(image_grid(images))[0].ravel(), [0.0, 1.0])


def test_float_pixels_in_0_255_are_recognised():
    np.testing.assert_allclose(to_unit_range(np.array([0.0, 127.5, 255.0])), [0.0, 0.5, 1.0])


def test_grid_has_one_axis_per_cell_and_one_image_per_input():
    figure = image_grid(np.zeros((10, 28, 28, 1), np.float32), ncols=4, title="ten")
    assert len(figure.axes) == 12
    assert len(shown_pixels(figure)) == 10
    assert figure._suptitle.get_text() == "ten"


def test_colour_images_are_drawn_in_colour():
    figure = image_grid(np.zeros((2, 8, 8, 3), np.float32))
    assert shown_pixels(figure)[0].shape == (8, 8, 3)


def test_a_single_image_is_accepted():
    assert len(shown_pixels(image_grid(np.zeros((28, 28), np.uint8)))) == 1


@pytest.mark.parametrize("shape", [(5, 784), (5,), (2, 28, 28, 2), (1, 2, 3, 4, 5)])
def test_wrong_shapes_are_a_clear_error(shape):
    with pytest.raises(ValueError, match=r"image_grid expects images of shape"):
        image_grid(np.zeros(shape, np.float32))


def test_flat_vectors_get_a_reshape_hint():
    with pytest.raises(ValueError, match=r"reshape to \(n, 28, 28, 1\)"):
        image_grid(np.zeros((5, 784), np.float32))


def test_nan_pixels_are_reported():
    with pytest.raises(ValueError, match="NaN"):
        image_grid(np.full((2, 4, 4), np.nan, np.float32))
