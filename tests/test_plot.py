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


def test_save_gif_writes_an_animation_with_one_frame_per_png(tmp_path):
    from PIL import Image

    from gan_lab.plot import save_gif

    frames = []
    for index in range(3):
        figure = image_grid(np.full((4, 8, 8), index / 2, np.float32))
        frames.append(tmp_path / f"frame{index}.png")
        figure.savefig(frames[-1])
    save_gif(frames, tmp_path / "out.gif")
    with Image.open(tmp_path / "out.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 3


def test_save_gif_without_frames_is_an_error(tmp_path):
    from gan_lab.plot import save_gif

    with pytest.raises(ValueError, match="no frames"):
        save_gif([], tmp_path / "out.gif")


def test_loss_curves_draws_one_line_per_loss_and_per_discriminator_mean():
    from gan_lab.plot import loss_curves

    history = {"d_loss": [1.3, 1.1], "g_loss": [0.8, 0.9], "d_real": [0.6, 0.7], "d_fake": [0.4, 0.3]}
    losses, scores = loss_curves(history).axes
    assert [line.get_label() for line in losses.lines] == ["discriminator", "generator"]
    assert [list(line.get_ydata()) for line in scores.lines] == [[0.6, 0.7], [0.4, 0.3]]


def test_loss_curves_without_losses_says_to_train_first():
    from gan_lab.plot import loss_curves

    with pytest.raises(ValueError, match="train for an epoch first"):
        loss_curves({})


def visible_ticks(ax):
    low, high = ax.get_xlim()
    return [tick for tick in ax.get_xticks() if low <= tick <= high]


@pytest.mark.parametrize("epochs", [1, 2, 3, 60])
def test_loss_curves_mark_whole_epochs_only(epochs):
    from gan_lab.plot import loss_curves

    history = {key: [0.5] * epochs for key in ("d_loss", "g_loss", "d_real", "d_fake")}
    for ax in loss_curves(history).axes:
        ticks = visible_ticks(ax)
        assert ticks and all(float(tick).is_integer() and 1 <= tick <= epochs for tick in ticks), ticks


def test_loss_curves_keep_axis_labels_and_legends_inside_the_saved_figure(tmp_path):
    from gan_lab.plot import loss_curves

    figure = loss_curves({"d_loss": [1.3], "g_loss": [0.8], "d_real": [0.6], "d_fake": [0.4]})
    figure.savefig(tmp_path / "losses.png", dpi=80)  # lays the figure out as losses.png is written
    renderer = figure.canvas.get_renderer()
    bounds = figure.bbox
    for ax in figure.axes:
        for artist in (ax.xaxis.label, ax.yaxis.label, ax.get_legend()):
            box = artist.get_window_extent(renderer)
            assert artist.get_visible() and box.width > 0
            inside = bounds.x0 <= box.x0 and box.x1 <= bounds.x1 and bounds.y0 <= box.y0 and box.y1 <= bounds.y1
            assert inside, f"{artist} sticks out of the figure"
