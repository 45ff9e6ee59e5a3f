"""Tests for gan_lab.authoring.reference and `gan-lab train`: the reference GAN comes from solutions/."""

import json
import os

import nbformat
import numpy as np
import pytest

from gan_lab.authoring import reference
from gan_lab.cli import main


def test_the_mlp_reference_defines_a_compiled_gan_from_the_lab03_solution():
    namespace = reference.load_reference("mlp")
    gan = namespace["make_gan"](seed=0)
    assert gan.latent_dim == 100 and gan.k == namespace["K"]
    assert gan.d_optimizer is not gan.g_optimizer
    assert callable(namespace["build_generator"]) and namespace["BATCH_SIZE"] > 0
    assert namespace["discriminator_loss"].__module__ == "earlier_lab02"  # run from Lab 02, not a copy


def test_the_dcgan_reference_builds_the_lab04_networks_for_any_image_shape():
    namespace = reference.load_reference("dcgan")
    gan = namespace["make_gan"](seed=0)
    assert gan.generator.output_shape == (None, 28, 28, 1)
    assert gan.discriminator.output_shape == (None, 1)
    slide = namespace["make_gan"](seed=0, image_shape=(64, 64, 3))
    assert slide.generator.output_shape == (None, 64, 64, 3)


def test_the_cgan_reference_builds_a_conditional_gan_from_the_lab06_solution():
    namespace = reference.load_reference("cgan")
    gan = namespace["make_gan"](seed=0)
    assert gan.num_classes == namespace["NUM_CLASSES"] == 10 and gan.latent_dim == namespace["LATENT_DIM"]
    images = np.asarray(gan.generator([np.zeros((3, gan.latent_dim), "float32"), np.arange(3, dtype="int32")]))
    assert images.shape == (3, 28, 28, 1)
    assert gan.discriminator([images, np.arange(3, dtype="int32")]).shape == (3, 1)


def test_an_unknown_model_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match="choose one of mlp, dcgan, cgan"):
        reference.load_reference("vae")


def test_a_missing_solutions_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"no solutions folder at .*nowhere \(set by --solutions\)"):
        reference.load_reference("mlp", solutions=tmp_path / "nowhere")


def test_the_train_command_finds_the_solutions_through_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAN_LAB_SOLUTIONS", str(tmp_path / "missing"))
    with pytest.raises(SystemExit) as stop:
        main(["train", "--epochs", "1", "--out", str(tmp_path / "run")])
    assert str(stop.value) == f"gan-lab train: no solutions folder at {tmp_path / 'missing'} (set by GAN_LAB_SOLUTIONS): fix the path"


def test_a_solution_without_reference_cells_is_a_clear_error(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]),
                   tmp_path / "lab03_gan.ipynb")
    with pytest.raises(ValueError, match="no cells tagged 'reference'"):
        reference.load_reference("mlp", solutions=tmp_path)


def test_train_command_writes_samples_gif_losses_checkpoint_and_metrics(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--epochs", "1", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 1 and len(metrics["seconds_per_epoch"]) == 1
    assert 1.0 <= metrics["mnist_score"] <= 10.0 and metrics["frechet_distance"] >= 0
    assert abs(sum(metrics["class_histogram"]) - 1.0) < 1e-6
    for name in ("samples/epoch_001.png", "samples.gif", "losses.png", "checkpoint/state.json"):
        assert (out / name).is_file(), name
    assert "conditional_accuracy" not in metrics
    output = capsys.readouterr().out
    assert "MNIST score" in output and "conditional accuracy" not in output


def test_train_command_on_the_cgan_writes_its_conditional_accuracy_to_metrics_json(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "cgan", "--epochs", "1", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "cgan" and metrics["epochs_trained"] == 1
    assert metrics["n_images"] == 1000  # 100 samples per digit in fast mode
    assert 0.0 <= metrics["conditional_accuracy"] <= 1.0 and len(metrics["per_class_accuracy"]) == 10
    assert np.mean(metrics["per_class_accuracy"]) == pytest.approx(metrics["conditional_accuracy"])
    assert 1.0 <= metrics["mnist_score"] <= 10.0 and abs(sum(metrics["class_histogram"]) - 1.0) < 1e-6
    for name in ("samples/epoch_001.png", "samples.gif", "losses.png", "checkpoint/state.json"):
        assert (out / name).is_file(), name
    assert f"conditional accuracy {100 * metrics['conditional_accuracy']:.1f}%" in capsys.readouterr().out


def test_train_command_resumes_from_its_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    main(["train", "--epochs", "1", "--out", str(out)])
    main(["train", "--epochs", "2", "--out", str(out), "--resume"])
    assert "after epoch 1" in capsys.readouterr().out
    assert json.loads((out / "metrics.json").read_text())["epochs_trained"] == 1
    assert json.loads((out / "checkpoint" / "state.json").read_text())["epoch"] == 2


def test_train_command_trains_the_dcgan_with_and_without_mixed_precision(tmp_path):
    for flags in ([], ["--mixed-precision"]):
        out = tmp_path / ("mixed" if flags else "float32")
        assert main(["train", "--model", "dcgan", "--epochs", "1", "--out", str(out), *flags]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["model"] == "dcgan" and metrics["mixed_precision"] == bool(flags)
        assert metrics["epochs_trained"] == 1 and 1.0 <= metrics["mnist_score"] <= 10.0
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # restored for what runs next


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_train_command_rejects_an_unwritable_folder_in_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SystemExit, match="cannot write to .* pick another --out"):
        main(["train", "--epochs", "1", "--out", str(locked / "run")])


def test_train_command_rejects_a_path_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SystemExit, match="cannot write to .* pick another --out"):
        main(["train", "--epochs", "1", "--out", str(tmp_path / "file")])


@pytest.mark.parametrize("epochs", ["0", "-3", "many"])
def test_train_command_rejects_bad_epochs(epochs):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--epochs", epochs, "--out", "/tmp/unused"])
    assert stop.value.code == 2
