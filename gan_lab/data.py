"""MNIST without a network: a verified local copy, and tf.data pipelines for training GANs."""

import hashlib
import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

SHIPPED_MNIST = Path(__file__).resolve().parent / "assets" / "mnist.npz"
# SHA-256 of the copy built by scripts/build_mnist.py, and of the file Keras downloads.
MNIST_SHA256 = "ee068f36682cba7f38bafdedc77b0f873ebbcf877036f7ebde566966146ac146"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_REBUILD_HINT = (
    "restore it with `git checkout -- gan_lab/assets/mnist.npz` "
    "or rebuild it with `python scripts/build_mnist.py` (see the README)"
)


class DataError(RuntimeError):
    """A data file is missing, corrupt or unreadable; the message names it and the fix."""


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes (cached while the file is unchanged)."""
    stat = os.stat(path)
    return _sha256(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _sha256(path, _mtime_ns, _size):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keras_cache_candidates() -> list:
    """Where Keras keeps a downloaded mnist.npz: $KERAS_HOME, ~/.keras, then /tmp/.keras."""
    homes = [os.environ.get("KERAS_HOME"), os.path.join(os.path.expanduser("~"), ".keras"), "/tmp/.keras"]
    return [Path(home) / "datasets" / "mnist.npz" for home in homes if home]


def mnist_path() -> Path:
    """Return a verified mnist.npz: a valid Keras cache file if present, else the shipped copy."""
    for candidate in keras_cache_candidates():
        if candidate.is_file():
            if sha256_of(candidate) == KERAS_MNIST_SHA256:
                return candidate
            warnings.warn(f"ignoring {candidate}: its checksum is not Keras' MNIST (a partial download?)")
    if not SHIPPED_MNIST.is_file():
        raise DataError(f"MNIST copy {SHIPPED_MNIST} is missing: {_REBUILD_HINT}")
    if sha256_of(SHIPPED_MNIST) != MNIST_SHA256:
        raise DataError(f"MNIST copy {SHIPPED_MNIST} is corrupt (SHA-256 mismatch): {_REBUILD_HINT}")
    return SHIPPED_MNIST


def load_mnist():
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, like keras.datasets.mnist."""
    path = mnist_path()
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    except Exception as error:  # noqa: BLE001 - any read failure means the same fix
        raise DataError(f"cannot read MNIST file {path} ({error}): {_REBUILD_HINT}") from None


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def scale_images(images):
    """Map uint8 pixels [0, 255] to float32 in [-1, 1] with a channel axis: (n, 28, 28, 1)."""
    import tensorflow as tf

    images = tf.cast(images, tf.float32) / 127.5 - 1.0
    return images[..., tf.newaxis] if images.shape.rank == 3 else images


def mnist_dataset(batch_size, limit=None, seed=None, labels=False):
    """A shuffled, batched, prefetched tf.data.Dataset of MNIST training images in [-1, 1].

    Each element is a float32 batch of shape (batch_size, 28, 28, 1), or with labels=True a pair
    (that batch, its int32 digit labels of shape (batch_size,)), shuffled together. The last partial
    batch is dropped so every step sees the same shape. `limit` keeps the first `limit` training images.
    """
    batch_size = _positive_int(batch_size, "batch_size")
    (images, digits), _ = load_mnist()
    if limit is not None:
        limit = _positive_int(limit, "limit")
        images, digits = images[:limit], digits[:limit]
    return training_batches(images, batch_size, seed, "available",
                            labels=digits.astype(np.int32) if labels else None)


def training_batches(images, batch_size, seed=None, where="available", labels=None):
    """Shuffle uint8 images (and labels) each epoch, batch them (full batches only), scale to [-1, 1], prefetch."""
    import tensorflow as tf

    if batch_size > len(images):
        raise ValueError(f"batch_size {batch_size} is larger than the {len(images)} images {where}")
    dataset = tf.data.Dataset.from_tensor_slices(images if labels is None else (images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    dataset = dataset.map(scale_images if labels is None else lambda x, y: (scale_images(x), y))
    return dataset.prefetch(tf.data.AUTOTUNE)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def _square_image(path, image_size):
    """Read one image file as a centre-cropped image_size x image_size RGB uint8 array."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        return np.asarray(image.resize((image_size, image_size), Image.Resampling.BILINEAR))


def load_image_folder(path, image_size=64):
    """Read every image under `path` (recursively) as uint8 RGB squares: (n, size, size, 3).

    Files that are not images, or that cannot be decoded, are skipped with one warning.
    """
    folder = Path(path)
    image_size = _positive_int(image_size, "image_size")
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist: pass the folder that holds your images")
    try:
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    except OSError as error:
        raise DataError(f"cannot list image folder {folder} ({error.strerror}): check its permissions") from None
    images, unreadable = [], []
    for file in files:
        try:
            images.append(_square_image(file, image_size))
        except Exception:  # noqa: BLE001 - PIL raises many types for a bad file; skip it either way
            unreadable.append(file)
    if unreadable:
        warnings.warn(f"skipped {len(unreadable)} unreadable image file(s) in {folder}, "
                      f"e.g. {unreadable[0].name}")
    if not images:
        raise DataError(f"no readable images ({', '.join(IMAGE_SUFFIXES)}) in {folder}: "
                        "put image files in it (sub-folders are searched too)")
    return np.stack(images)


def image_folder_dataset(path, image_size=64, batch_size=64, seed=None):
    """A shuffled, batched tf.data.Dataset of a folder's images in [-1, 1]: (batch, size, size, 3)."""
    batch_size = _positive_int(batch_size, "batch_size")
    return training_batches(load_image_folder(path, image_size), batch_size, seed, f"in {path}")
