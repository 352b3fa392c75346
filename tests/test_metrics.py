import numpy as np
import pytest

from deepsteg import metrics, imageio


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
    assert float(metrics.psnr_tensor(a, b)) == pytest.approx(expected, rel=1e-4)
