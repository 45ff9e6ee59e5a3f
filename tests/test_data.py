"""Tests for gan_lab.data: the offline, checksummed MNIST and the training dataset."""

import hashlib
import shutil
import socket

import numpy as np
import pytest

from gan_lab import data

TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def no_keras_cache(monkeypatch):
    """Hide any Keras cache on this machine so only the shipped copy can be used."""
    monkeypatch.setattr(data, "keras_cache_candidates", lambda: [])


def test_load_mnist_matches_the_keras_layout_and_known_mnist_statistics(no_keras_cache):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == TRAIN_CLASS_COUNTS
    assert np.bincount(y_test).tolist() == TEST_CLASS_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert x_train.max() == 255 and x_train.min() == 0


def test_shipped_copy_matches_its_recorded_checksum():
    digest = hashlib.sha256(data.SHIPPED_MNIST.read_bytes()).hexdigest()
    assert digest == data.MNIST_SHA256


def test_load_mnist_works_with_the_network_switched_off(no_keras_cache, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "socket", refuse)
    (x_train, _), _ = data.load_mnist()
    assert len(x_train) == 60000


def test_missing_shipped_copy_is_a_one_line_error_naming_path_and_fix(no_keras_cache, monkeypatch, tmp_path):
    missing = tmp_path / "mnist.npz"
    monkeypatch.setattr(data, "SHIPPED_MNIST", missing)
    with pytest.raises(data.DataError) as error:
        data.load_mnist()
    message = str(error.value)
    assert "\n" not in message and str(missing) in message
    assert "missing" in message and "scripts/build_mnist.py" in message


def test_corrupt_shipped_copy_is_rejected_by_checksum(no_keras_cache, monkeypatch, tmp_path):
    corrupt = tmp_path / "mnist.npz"
    payload = bytearray(data.SHIPPED_MNIST.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(payload))
    monkeypatch.setattr(data, "SHIPPED_MNIST", corrupt)
    with pytest.raises(data.DataError, match="corrupt"):
        data.load_mnist()


def test_a_valid_keras_cache_file_is_preferred(monkeypatch, tmp_path):
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    shutil.copy(data.SHIPPED_MNIST, cache)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data, "KERAS_MNIST_SHA256", data.MNIST_SHA256)
    assert data.mnist_path() == cache


def test_a_corrupt_keras_cache_file_is_skipped_with_a_warning(monkeypatch, tmp_path):
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    cache.write_bytes(b"half a download")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match="ignoring"):
        path = data.mnist_path()
    assert path != cache


def test_mnist_dataset_yields_full_batches_of_scaled_images(no_keras_cache):
    batches = list(data.mnist_dataset(128, limit=1000, seed=1))
    assert len(batches) == 1000 // 128
    first = batches[0].numpy()
    assert first.shape == (128, 28, 28, 1) and first.dtype == np.float32
    assert first.min() >= -1.0 and first.max() <= 1.0
    assert first.min() == -1.0 and first.max() == 1.0


def test_mnist_dataset_shuffle_follows_the_seed(no_keras_cache):
    def first_batch(seed):
        return next(iter(data.mnist_dataset(64, limit=640, seed=seed))).numpy()

    np.testing.assert_array_equal(first_batch(3), first_batch(3))
    assert not np.array_equal(first_batch(3), first_batch(4))


def test_mnist_dataset_with_labels_yields_each_image_with_its_own_label(no_keras_cache):
    (x_train, y_train), _ = data.load_mnist()
    label_of = {image.tobytes(): label for image, label in zip(x_train[:640], y_train[:640])}
    batches = list(data.mnist_dataset(64, limit=640, seed=2, labels=True))
    assert len(batches) == 10
    for images, labels in batches:
        assert images.shape == (64, 28, 28, 1) and images.dtype == np.float32
        assert labels.shape == (64,) and labels.dtype == np.int32
        pixels = np.rint((images.numpy()[..., 0] + 1.0) * 127.5).astype(np.uint8)
        assert [label_of[image.tobytes()] for image in pixels] == labels.numpy().tolist()
    seen = np.concatenate([labels.numpy() for _, labels in batches])
    assert sorted(seen.tolist()) == sorted(y_train[:640].tolist())  # each image once per epoch
    assert seen.tolist() != y_train[:640].tolist()  # and shuffled


def test_mnist_dataset_with_labels_shuffles_the_images_as_without_them(no_keras_cache):
    plain = next(iter(data.mnist_dataset(64, limit=640, seed=5))).numpy()
    images, _ = next(iter(data.mnist_dataset(64, limit=640, seed=5, labels=True)))
    np.testing.assert_array_equal(plain, images.numpy())


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"batch_size": 2.5}, {"batch_size": 8, "limit": -1},
                                    {"batch_size": 100, "limit": 10}])
def test_mnist_dataset_rejects_bad_arguments(kwargs, no_keras_cache):
    with pytest.raises(ValueError):
        data.mnist_dataset(**kwargs)


def test_scale_images_maps_pixel_range_onto_minus_one_to_one():
    scaled = data.scale_images(np.array([[[0, 255]]], dtype=np.uint8)).numpy()
    assert scaled.shape == (1, 1, 2, 1)
    np.testing.assert_allclose(scaled.ravel(), [-1.0, 1.0])


# ---------------------------------------------------------------- image folders


def _write_images(folder, count, size=(40, 30), mode="RGB"):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).convert(mode).save(folder / f"image_{index}.png")


def test_image_folder_dataset_gives_square_colour_batches_in_unit_range(tmp_path):
    _write_images(tmp_path / "faces", 5)
    _write_images(tmp_path / "faces" / "more", 3, mode="L")  # sub-folders and greyscale count too
    batches = list(data.image_folder_dataset(tmp_path / "faces", image_size=16, batch_size=4, seed=0))
    assert len(batches) == 2  # 8 images, full batches of 4
    assert all(tuple(batch.shape) == (4, 16, 16, 3) for batch in batches)
    values = np.concatenate([batch.numpy().ravel() for batch in batches])
    assert -1.0 <= values.min() < -0.5 and 0.5 < values.max() <= 1.0


def test_image_folder_dataset_rejects_a_missing_folder_in_one_line(tmp_path):
    with pytest.raises(data.DataError) as error:
        data.image_folder_dataset(tmp_path / "nowhere")
    assert "\n" not in str(error.value) and "nowhere" in str(error.value) and "does not exist" in str(error.value)


def test_image_folder_dataset_rejects_a_folder_without_images(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(data.DataError, match="no readable images"):
        data.image_folder_dataset(tmp_path)


def test_image_folder_dataset_skips_unreadable_files_with_a_warning(tmp_path):
    _write_images(tmp_path, 2)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(UserWarning, match="skipped 1 unreadable image file.*broken.jpg"):
        images = data.load_image_folder(tmp_path, image_size=8)
    assert images.shape == (2, 8, 8, 3)


def test_image_folder_dataset_with_only_unreadable_files_is_an_error(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.warns(UserWarning), pytest.raises(data.DataError, match="no readable images"):
        data.load_image_folder(tmp_path)


def test_image_folder_dataset_rejects_a_batch_larger_than_the_folder(tmp_path):
    _write_images(tmp_path, 3)
    with pytest.raises(ValueError, match="batch_size 8 is larger than the 3 images in"):
        data.image_folder_dataset(tmp_path, image_size=8, batch_size=8)
