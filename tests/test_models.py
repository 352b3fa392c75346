import pathlib

import keras
import numpy as np
import pytest

from deepsteg import inference, zoo
from models import PRESETS, DepthToSpace, QuantizeToLevels, SpaceToDepth, build_steg_model, get_preset, size_multiple, split_steg_model


def random_batch(seed, height, width, count=2):
    rng = np.random.default_rng(seed)
    return rng.random((count, height, width, 3)).astype(np.float32), rng.random((count, height, width, 3)).astype(np.float32)


@pytest.mark.parametrize("height,width", [(16, 16), (17, 23), (40, 8)])
def test_any_resolution(height, width):
    model = build_steg_model("tiny")
    secrets, covers = random_batch(0, height, width)
    container, revealed = model.predict([secrets, covers], verbose=0)
    assert container.shape == revealed.shape == (2, height, width, 3)


def test_paper_preset_widths():
    model = build_steg_model("paper")
    assert model.get_layer("prep").output.shape[-1] == 65
    assert [layer.name for layer in model.layers if isinstance(layer, keras.Model)] == ["prep", "hide", "reveal"]
    wide = build_steg_model("wide")
    assert wide.get_layer("prep").output.shape[-1] == 150


def test_final_layers_are_linear():
    model = build_steg_model("tiny")
    assert model.get_layer("hide").get_layer("container").activation.__name__ == "linear"
    assert model.get_layer("reveal").get_layer("revealed").activation.__name__ == "linear"


def test_residual_preset_starts_as_identity_on_cover():
    model = build_steg_model(get_preset("residual"))
    secrets, covers = random_batch(1, 16, 16)
    container, _ = model.predict([secrets, covers], verbose=0)
    np.testing.assert_allclose(container, covers, atol=1e-6)


@pytest.mark.parametrize("preset", ["tiny", "tiny-unshuffled"])
def test_split_equals_joint_at_inference(preset):
    model = build_steg_model(preset, noise_stddev=0.05)
    hide_network, reveal_network = split_steg_model(model)
    secrets, covers = random_batch(2, 16, 24)
    container, revealed = model.predict([secrets, covers], verbose=0)
    split_container = hide_network.predict([secrets, covers], verbose=0)
    np.testing.assert_allclose(split_container, container, atol=1e-6)
    np.testing.assert_allclose(reveal_network.predict(split_container, verbose=0), revealed, atol=1e-6)


def test_noise_and_quantisation_only_in_training():
    model = build_steg_model("tiny", noise_stddev=0.1)
    secrets, covers = random_batch(3, 16, 16)
    first = model([secrets, covers], training=True)[1]
    second = model([secrets, covers], training=True)[1]
    assert not np.allclose(keras.ops.convert_to_numpy(first), keras.ops.convert_to_numpy(second))
    inference = [keras.ops.convert_to_numpy(model([secrets, covers], training=False)[1]) for _ in range(2)]
    np.testing.assert_array_equal(*inference)


def test_quantize_layer_rounds_in_training_and_passes_through_otherwise():
    layer = QuantizeToLevels(255)
    values = np.array([[0.1234, 0.5, 1.3, -0.2]], np.float32)
    trained = keras.ops.convert_to_numpy(layer(values, training=True))
    np.testing.assert_allclose(trained, np.clip(np.round(values * 255), 0, 255) / 255, atol=1e-7)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(values, training=False)), values)
    assert QuantizeToLevels.from_config(layer.get_config()).levels == 255


@pytest.mark.parametrize("preset", ["tiny", "tiny-unshuffled"])
def test_save_and_load_round_trip(tmp_path, preset):
    model = build_steg_model(preset)
    secrets, covers = random_batch(4, 16, 16)
    expected = model.predict([secrets, covers], verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    for a, b in zip(expected, loaded.predict([secrets, covers], verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert isinstance(loaded.get_layer("quantize"), QuantizeToLevels)


def test_unknown_preset_and_bad_noise():
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("huge")
    with pytest.raises(ValueError, match="noise"):
        build_steg_model("tiny", noise_stddev=-1)
    assert set(PRESETS) >= {"paper", "wide", "residual", "tiny"}


def test_space_to_depth_moves_each_block_into_channels_and_back():
    images = np.arange(2 * 4 * 6 * 3, dtype=np.float32).reshape(2, 4, 6, 3)
    unshuffled = keras.ops.convert_to_numpy(SpaceToDepth(2)(images))
    assert unshuffled.shape == (2, 2, 3, 12)
    # Channels of output pixel (i, j) are the 2x2 block at (2i, 2j) in row-major order.
    np.testing.assert_array_equal(unshuffled[1, 1, 2], images[1, 2:4, 4:6].reshape(-1))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(DepthToSpace(2)(unshuffled)), images)
    assert SpaceToDepth.from_config(SpaceToDepth(4).get_config()).block_size == 4
    with pytest.raises(ValueError, match="block_size"):
        DepthToSpace(0)


def test_unshuffled_preset_starts_as_identity_and_needs_even_sides():
    model = build_steg_model(get_preset("unshuffled"))
    assert size_multiple(model) == 2 and size_multiple(build_steg_model("tiny")) == 1
    secrets, covers = random_batch(5, 16, 24)
    container, revealed = model.predict([secrets, covers], verbose=0)
    np.testing.assert_allclose(container, covers, atol=1e-6)
    assert revealed.shape == (2, 16, 24, 3)


@pytest.mark.parametrize("preset,height,width", [("tiny-unshuffled", 17, 23), ("tiny-unshuffled", 16, 9), ("tiny-invertible", 15, 8)])
def test_containers_of_odd_sides_keep_the_padded_row_and_reveal_at_the_secret_size(preset, height, width):
    """Networks on 2x2 blocks get covers mirror-padded to even sides, and the container keeps the
    padded row or column (cropping it would leave the receiver to guess it); the reveal crops back."""
    hide_network, reveal_network = split_steg_model(build_steg_model(preset))
    rng = np.random.default_rng(6)
    secrets, covers = (rng.integers(0, 256, (2, height, width, 3), dtype=np.uint8) for _ in range(2))
    containers = inference.hide(hide_network, secrets, covers)
    even = (height + height % 2, width + width % 2)
    assert inference.container_size(hide_network, height, width) == even
    assert containers.shape == (2, *even, 3) and containers.dtype == np.uint8
    # An untrained residual hide network leaves the (padded) cover exactly as it was.
    np.testing.assert_array_equal(containers, inference.padded_cover(hide_network, covers))
    np.testing.assert_array_equal(containers[:, :height, :width], covers)
    assert inference.reveal(reveal_network, containers).shape == (2, *even, 3)
    assert inference.reveal(reveal_network, containers, size=(height, width)).shape == (2, height, width, 3)
    with pytest.raises(ValueError, match="larger than the container"):
        inference.reveal(reveal_network, containers, size=(height + 2, width))


def randomised(model, seed=7, stddev=0.05):
    """``model`` with every weight drawn at random (the invertible networks start as the identity)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, stddev, weight.shape).astype(np.float32))
    return model


def test_haar_transform_is_orthonormal_and_inverts_on_a_photo(photo_paths):
    from deepsteg.imageio import read_image
    from models.invertible import haar_forward, haar_inverse

    photo = read_image(photo_paths[0])[:64, :96].astype(np.float32)[None] / 255.0
    bands = keras.ops.convert_to_numpy(haar_forward(photo))
    assert bands.shape == (1, 32, 48, 12)
    # Energy is kept (orthonormal) and the first sub-band is twice the 2x2 mean (the LL band).
    np.testing.assert_allclose(np.sum(bands ** 2), np.sum(photo ** 2), rtol=1e-5)
    np.testing.assert_allclose(bands[0, 3, 5, :3], 2 * photo[0, 6:8, 10:12].mean(axis=(0, 1)), atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(haar_inverse(bands)), photo, atol=1e-6)


def test_invertible_couplings_invert_exactly():
    model = randomised(build_steg_model("tiny-invertible"))
    network = model.get_layer("invertible")
    rng = np.random.default_rng(8)
    secret_bands, cover_bands = (rng.random((2, 8, 12, 12)).astype(np.float32) for _ in range(2))
    lost, container = network.couple(secret_bands, cover_bands)
    assert not np.allclose(keras.ops.convert_to_numpy(container), cover_bands, atol=1e-3)
    recovered_secret, recovered_cover = network.uncouple(lost, container)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(recovered_secret), secret_bands, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(recovered_cover), cover_bands, atol=1e-5)


def test_invertible_preset_starts_as_identity_splits_and_round_trips(tmp_path):
    model = build_steg_model("tiny-invertible", noise_stddev=0.05)
    assert size_multiple(model) == 2
    assert [layer.name for layer in model.layers if layer.weights] == ["invertible"]
    secrets, covers = random_batch(9, 16, 24)
    container, _ = model.predict([secrets, covers], verbose=0)
    np.testing.assert_allclose(container, covers, atol=1e-6)
    randomised(model)
    container, revealed = model.predict([secrets, covers], verbose=0)
    assert not np.allclose(container, covers, atol=1e-3) and np.abs(revealed).max() > 1e-3
    hide_network, reveal_network = split_steg_model(model)
    split_container = hide_network.predict([secrets, covers], verbose=0)
    np.testing.assert_allclose(split_container, container, atol=1e-6)
    np.testing.assert_allclose(reveal_network.predict(split_container, verbose=0), revealed, atol=1e-6)
    model.save(tmp_path / "model.keras")
    reveal_network.save(tmp_path / "reveal.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    for a, b in zip((container, revealed), loaded.predict([secrets, covers], verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    reloaded_reveal = keras.saving.load_model(tmp_path / "reveal.keras")
    np.testing.assert_allclose(reloaded_reveal.predict(split_container, verbose=0), revealed, atol=1e-6)


@pytest.mark.parametrize("preset", ["tiny", "tiny-unshuffled", "tiny-invertible"])
def test_mixed_precision_keeps_float32_outputs_and_weights(preset):
    """Under ``mixed_bfloat16`` (for accelerators with bf16 units) the networks compute in bf16 but
    keep float32 weights, and the two outputs the losses see are float32."""
    from deepsteg import training

    model = training.new_model(preset, beta=0.75, noise_stddev=0.01, quantize=True, schedule=1e-3, dtype_policy="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in model.layers}
    secrets, covers = random_batch(10, 16, 16)
    container, revealed = model([secrets, covers], training=False)
    history = model.fit([secrets, covers], {"container": covers, "revealed": secrets}, epochs=1, batch_size=2, verbose=0)
    assert keras.backend.standardize_dtype(container.dtype) == keras.backend.standardize_dtype(revealed.dtype) == "float32"
    assert {weight.dtype for weight in model.weights} == {"float32"}
    assert np.isfinite(history.history["loss"][0])


def test_flops_per_pixel_counts_every_convolution_at_its_resolution():
    from models import flops_per_pixel

    def dense_block(growth):  # multiply-adds per half-resolution position of one dense block
        return 9 * (sum(growth * (12 + index * growth) for index in range(4)) + 12 * (12 + 4 * growth))

    for preset, blocks, growth in (("invertible", 8, 32), ("invertible-4x16", 4, 16)):
        hide_network, reveal_network = split_steg_model(build_steg_model(preset))
        expected = 2 * blocks * 3 * dense_block(growth) / 4
        assert flops_per_pixel(hide_network) == pytest.approx(expected) == flops_per_pixel(reveal_network)
    model = build_steg_model("paper")
    reveal = model.get_layer("reveal")  # full resolution: every convolution once per pixel
    expected = 2 * sum(np.prod(layer.kernel.shape) for layer in reveal.layers if isinstance(layer, keras.layers.Conv2D))
    assert expected > 0 and flops_per_pixel(split_steg_model(model)[1]) == pytest.approx(expected)


@pytest.mark.parametrize("name", zoo.names())
def test_a_shipped_model_is_what_its_registry_entry_says(name):
    """Its files are there, its networks have the entry's preset size and cost, and the entry's
    quality is the one its eval.json and eval_key32.json measured."""
    import json

    from models import flops_per_pixel

    entry = zoo.get(name)
    for role in zoo.ROLES:
        assert entry.path(role).is_file(), entry.path(role)
    hide_network = keras.models.load_model(entry.path("hide"), compile=False)
    assert hide_network.count_params() == entry.parameters
    assert flops_per_pixel(hide_network) == pytest.approx(entry.flops_per_pixel, rel=2e-3)
    plain = json.loads((entry.folder / "eval.json").read_text())
    keyed = json.loads((entry.folder / "eval_key32.json").read_text())
    quality = entry.quality["eval"]
    for measure in ("cover_psnr", "secret_psnr"):
        assert quality[measure] == pytest.approx(plain[measure], abs=0.006), measure
    for measure in ("cover_ssim", "secret_ssim"):
        assert quality[measure] == pytest.approx(plain[measure], abs=6e-5), measure
    assert quality["key_cost_db"] == pytest.approx(plain["secret_psnr"] - keyed["secret_psnr"], abs=0.006)


def test_shipped_models_are_chosen_by_name():
    assert zoo.resolve("default", "hide") == zoo.CHECKPOINTS / "default" / "hide.keras"
    assert zoo.resolve("some/net.keras", "reveal") == pathlib.Path("some/net.keras")
    with pytest.raises(ValueError, match="default"):
        zoo.get("huge")
    for entry in zoo.SHIPPED.values():
        assert entry.recipe and entry.description and entry.parameters > 0 and entry.flops_per_pixel > 0
    # A shipped model's missing file is named as such, not as a bad path.
    missing = zoo.ShippedModel("gone", "test entry", "tiny", 1, 1.0, {}, ("train.py",))
    zoo.SHIPPED["gone"] = missing
    try:
        with pytest.raises(ValueError, match="'gone' model's hide.keras is missing"):
            zoo.resolve("gone", "hide")
    finally:
        del zoo.SHIPPED["gone"]
