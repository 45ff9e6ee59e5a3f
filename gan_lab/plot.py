"""Pictures for the labs: grids of images drawn by a generator or taken from a dataset."""

import math

import numpy as np


def to_unit_range(images):
    """Return float images in [0, 1] from uint8 [0, 255], float [-1, 1], [0, 1] or [0, 255] input."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or infinity: check the model that produced them")
    low, high = float(images.min()), float(images.max())
    if high > 1.5:  # pixel values, as loaded from MNIST
        return np.clip(images / 255.0, 0.0, 1.0)
    if low < 0.0:  # generator output in [-1, 1]; values outside are clipped for display
        return np.clip((images + 1.0) / 2.0, 0.0, 1.0)
    return np.clip(images, 0.0, 1.0)


def as_image_batch(images):
    """Return images as an array of shape (n, height, width) or (n, height, width, 3)."""
    images = np.asarray(images)
    shape = images.shape
    if images.ndim == 2 and shape[1] != 784:
        images = images[np.newaxis]  # one greyscale image
    elif images.ndim == 3 and shape[-1] in (1, 3) and shape[0] > 4:
        images = images[np.newaxis]  # one image with a channel axis
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3):
        return images
    hint = " (flat vectors: reshape to (n, 28, 28, 1))" if shape[-1:] == (784,) else ""
    raise ValueError(
        f"image_grid expects images of shape (n, height, width[, 1 or 3]), got {shape}{hint}"
    )


def image_grid(images, ncols=None, title=None, size=1.0):
    """Draw images in a grid and return the matplotlib Figure (call plt.show() in a notebook)."""
    import matplotlib.pyplot as plt

    batch = to_unit_range(as_image_batch(images))
    count = len(batch)
    if count == 0:
        raise ValueError("image_grid got no images")
    ncols = ncols or math.ceil(math.sqrt(count))
    nrows = math.ceil(count / ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size + (0.4 if title else 0)),
                                squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            ax.imshow(batch[index], cmap="gray" if batch.ndim == 3 else None, vmin=0.0, vmax=1.0)
    if title:
        figure.suptitle(title)
    figure.subplots_adjust(wspace=0.05, hspace=0.05)
    return figure


def save_gif(frame_paths, out_path, seconds_per_frame=0.5):
    """Assemble PNG frames into an animated GIF that loops forever."""
    from PIL import Image

    frames = [Image.open(path).convert("RGB") for path in frame_paths]
    if not frames:
        raise ValueError("save_gif got no frames")
    frames[0].save(out_path, save_all=True, append_images=frames[1:],
                   duration=int(seconds_per_frame * 1000), loop=0)
    return out_path


def loss_curves(history):
    """Plot a GAN's losses and its mean D(x), D(G(z)) per epoch from a keras History (or its dict)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    logs = getattr(history, "history", history)
    if not logs or "d_loss" not in logs:
        raise ValueError("loss_curves needs a history with d_loss and g_loss: train for an epoch first")
    epochs = range(1, len(logs["d_loss"]) + 1)
    # Constrained layout keeps the axis labels inside the figure (and inside a saved losses.png).
    figure, (losses, scores) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    for key, label in (("d_loss", "discriminator"), ("g_loss", "generator")):
        losses.plot(epochs, logs[key], marker=".", label=label)
    for key, label in (("d_real", "D(x), real"), ("d_fake", "D(G(z)), generated")):
        if key in logs:
            scores.plot(epochs, logs[key], marker=".", label=label)
    losses.set(xlabel="epoch", ylabel="loss", title="Losses")
    scores.set(xlabel="epoch", ylabel="mean output", title="Discriminator", ylim=(0, 1))
    for ax in (losses, scores):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # epochs are whole numbers
        ax.set_xlim(0.5, len(epochs) + 0.5)
        ax.legend()
    return figure
