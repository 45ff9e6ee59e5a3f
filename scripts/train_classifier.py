"""Rebuild gan_lab/assets/mnist_classifier.weights.h5, the classifier behind gan_lab.metrics.

Trains the CNN from gan_lab.metrics.build_classifier on the shipped MNIST training images (seeded),
prints its test accuracy, saves the weights and writes their SHA-256 next to them:

    python scripts/train_classifier.py
"""

import argparse
import sys
import time
from pathlib import Path

import gan_lab  # noqa: F401 - selects the Keras backend before keras is imported
from gan_lab import metrics
from gan_lab.data import load_mnist, sha256_of

MINIMUM_TEST_ACCURACY = 0.99


def train(epochs, seed):
    """Train a fresh classifier on the 60,000 training images; return it and its test accuracy."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()  # same seed, same machine: same weights file
    (x_train, y_train), (x_test, y_test) = load_mnist()
    model = metrics.build_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        metrics.as_classifier_input(x_train), y_train, batch_size=128, epochs=epochs, verbose=2
    )
    _, accuracy = model.evaluate(metrics.as_classifier_input(x_test), y_test, batch_size=500, verbose=0)
    return model, accuracy


def main(argv=None) -> int:
    """Train, check the accuracy, save the weights and their checksum."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=metrics.CLASSIFIER_WEIGHTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, accuracy = train(args.epochs, args.seed)
    print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs ({time.perf_counter() - started:.0f} s)")
    if accuracy < MINIMUM_TEST_ACCURACY:
        raise SystemExit(f"test accuracy {accuracy:.4f} is below {MINIMUM_TEST_ACCURACY}: weights not saved")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # A fresh copy of the model holds no optimizer state, which would triple the file's size.
    inference_model = metrics.build_classifier()
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(args.output)
    digest = sha256_of(args.output)
    checksum_file = args.output.with_name(args.output.name.replace(".weights.h5", ".sha256"))
    checksum_file.write_text(digest + "\n")
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes)\nsha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
