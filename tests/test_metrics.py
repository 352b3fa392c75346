import numpy as np
import pytest

from deepsteg import imageio, losses, metrics


def test_psnr_of_known_error():
    reference = np.full((8, 8, 3), 100, np.uint8)
    test = reference.copy()
    test[...] = 110  # MSE 100
    assert metrics.mse(reference, test) == pytest.approx(100.0)
    assert metrics.psnr(reference, test) == pytest.approx(10 * np.log10(255**2 / 100))
    assert metrics.mae(reference, test) == pytest.approx(10.0)


def test_identical_images(photo_paths):
    image = imageio.read_image(photo_paths[0])
    assert metrics.psnr(image, image) == metrics.PSNR_IDENTICAL
    assert metrics.ssim(image, image) == pytest.approx(1.0)


def test_ssim_drops_with_noise(photo_paths):
    image = imageio.read_image(photo_paths[1])
    noisy = np.clip(image.astype(int) + np.random.default_rng(0).normal(0, 20, image.shape), 0, 255).astype(np.uint8)
    assert metrics.ssim(image, noisy) < 0.9
    assert metrics.psnr(image, noisy) < 25


def test_to_uint8_rounds_and_clips():
    values = np.array([-0.1, 0.0, 0.5 / 255, 1.49 / 255, 1.0, 1.2])
    assert metrics.to_uint8(values).tolist() == [0, 0, 0, 1, 255, 255]


def test_metrics_refuse_float_and_mismatched():
    with pytest.raises(ValueError, match="uint8"):
        metrics.psnr(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))


def test_tensor_psnr_matches_numpy_on_same_values():
    rng = np.random.default_rng(1)
    a = rng.random((2, 8, 8, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
    expected = 10 * np.log10(1 / np.mean((a - b) ** 2))
    assert float(losses.psnr_tensor(a, b)) == pytest.approx(expected, rel=1e-4)


def test_tensor_ssim_matches_uint8_ssim_on_a_real_photo(photo_paths):
    image = imageio.read_image(photo_paths[0])[:64, :96]
    rng = np.random.default_rng(2)
    noisy = np.clip(image.astype(int) + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    batch_true, batch_pred = np.stack([image, image]) / 255.0, np.stack([noisy, image]) / 255.0
    values = np.asarray(losses.ssim_tensor(batch_true, batch_pred))
    assert values.shape == (2,)
    assert values[0] == pytest.approx(metrics.ssim(image, noisy), abs=2e-4)
    assert values[0] < 0.95 and values[1] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="11x11"):
        losses.ssim_tensor(batch_true[:, :8, :8], batch_pred[:, :8, :8])


def test_mse_ssim_loss_adds_the_weighted_ssim_term_and_round_trips():
    import keras

    rng = np.random.default_rng(3)
    y_true = rng.random((2, 16, 16, 3)).astype(np.float32)
    y_pred = np.clip(y_true + rng.normal(0, 0.05, y_true.shape), 0, 1).astype(np.float32)
    mse = float(np.mean((y_true - y_pred) ** 2))
    assert float(losses.MseSsimLoss(0.0)(y_true, y_pred)) == pytest.approx(mse, rel=1e-5)
    one_minus_ssim = float(np.mean(1 - np.asarray(losses.ssim_tensor(y_true, y_pred))))
    loss = losses.MseSsimLoss(0.5)
    assert float(loss(y_true, y_pred)) == pytest.approx(mse + 0.5 * one_minus_ssim, rel=1e-4)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, losses.MseSsimLoss) and restored.ssim_weight == 0.5
    with pytest.raises(ValueError, match="ssim_weight"):
        losses.MseSsimLoss(-1.0)


def test_summarize_gives_means_minima_and_count_and_filters_by_prefix():
    rows = [{"frame": 0, "cover_psnr": 40.0, "cover_ssim": 0.98, "secret_psnr": 35.0, "clip": "a"},
            {"frame": 1, "cover_psnr": 42.0, "cover_ssim": 0.96, "secret_psnr": 37.0, "clip": "a"}]
    summary = metrics.summarize(rows)
    assert summary == {"pairs": 2, "cover_psnr": 41.0, "cover_psnr_min": 40.0, "cover_ssim": pytest.approx(0.97),
                       "cover_ssim_min": 0.96, "secret_psnr": 36.0, "secret_psnr_min": 35.0}
    assert set(metrics.summarize(rows, "secret")) == {"pairs", "secret_psnr", "secret_psnr_min"}
    with pytest.raises(ValueError, match="no measurements"):
        metrics.summarize([])
