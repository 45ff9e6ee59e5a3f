"""The 2-D ring of Gaussians of Lab05: samples, and how well a generator covers its modes.

The ring is the standard mode-collapse test (Metz et al. 2017, Srivastava et al. 2017): 8 Gaussians
with standard deviation 0.02 whose centres sit evenly on a circle of radius 2. A sample is of high
quality when it lies within 3 standard deviations of the nearest centre; a mode is covered when at
least 1% of all samples are high-quality samples of that mode (an even share is 12.5%).
"""

import numpy as np

MODES = 8
RADIUS = 2.0
STD = 0.02
MIN_SHARE = 0.01


def ring_centers(modes=MODES, radius=RADIUS):
    """The (modes, 2) centres of the ring, the first at angle 0."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_ring(count, rng, modes=MODES, radius=RADIUS, std=STD):
    """`count` float32 points of the ring, each from a mode chosen uniformly; `rng` is a NumPy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    centres = ring_centers(modes, radius)[rng.integers(0, modes, count)]
    return (centres + std * rng.standard_normal((count, 2))).astype("float32")


def ring_dataset(batch_size, seed, modes=MODES, radius=RADIUS, std=STD):
    """An endless tf.data.Dataset of ring batches (float32, (batch_size, 2)), for fit(steps_per_epoch=...)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def batches():
        while True:
            yield sample_ring(batch_size, rng, modes, radius, std)

    signature = tf.TensorSpec((batch_size, 2), tf.float32)
    return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(2)


def mode_coverage(samples, modes=MODES, radius=RADIUS, std=STD, min_share=MIN_SHARE):
    """Modes covered and the share of high-quality samples, for (n, 2) generated points."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"mode_coverage expects points of shape (n, 2), got {samples.shape}")
    distances = np.linalg.norm(samples[:, None, :] - ring_centers(modes, radius)[None], axis=-1)
    nearest, good = distances.argmin(axis=1), distances.min(axis=1) < 3 * std
    good &= np.all(np.isfinite(samples), axis=1)
    per_mode = np.bincount(nearest[good], minlength=modes)
    return {
        "modes_covered": int(np.sum(per_mode >= min_share * len(samples))),
        "high_quality": float(good.mean()),
        "per_mode": per_mode.tolist(),
    }
