"""Quality of the shipped models on real photos and video frames, through 8-bit files.

Thresholds are the levels each shipped model reached (checkpoints/README.md), less a few tenths of
a dB (0.01 SSIM) for numerical differences between machines, and never below a target the model
has reached (eval/: default secret SSIM >= 0.97 and a key costing at most 1 dB; fast cover >= 40 dB
/ 0.98, secret >= 35.5 dB / 0.97, a key costing at most 1.2 dB). They follow the shipped models:
raised when a better one ships, and moved with it when a release trades one measure for another.
The history of every level is in docs/experiments.md. Default v7 (v6 fine-tuned for its edges, so
that no edge row or column of the revealed secret has more than 3x the image's mean squared error)
gave up 0.4 dB of cover PSNR on eval/ (40.81 -> 40.41 dB), 0.1 dB of secret (36.52 -> 36.39 dB),
0.7 dB of cover on video frames and 0.8 dB of the keyed demo reveal for edges that v6 broke (4.5x
on a 512x512 photo); default v8 (v7 trained 3,600 steps more) gained on every set but the video
frames' cover (-0.05 dB); the levels below are v8's.
"""

import pytest

from conftest import SHARED_DATA, shared_available
from deepsteg import evaluation, inference, metrics
from deepsteg.cipher import BlockScrambler
from deepsteg.enhance import enhance_frames

pytestmark = pytest.mark.slow

# Levels reached by each shipped model on each data set (checkpoints/README.md), as
# (cover PSNR, secret PSNR, cover SSIM, secret SSIM).
PHOTOS = {
    "default": (38.6, 34.4, 0.960, 0.949),  # reached 38.87 dB, 34.60 dB, 0.971, 0.959
    "fast": (38.9, 34.6, 0.958, 0.955),  # reached 39.11 dB, 34.83 dB, 0.969, 0.965
}
EVAL_SET = {
    "default": (40.2, 36.3, 0.980, 0.970),  # reached 40.42 dB, 36.55 dB, 0.983, 0.977 (0.97: target)
    "fast": (40.0, 36.4, 0.980, 0.970),  # reached 40.17 dB, 36.66 dB, 0.981, 0.980 (40, 0.98, 0.97: targets)
}
VIDEO_FRAMES = {
    "default": (46.0, 36.1, 0.976, 0.976),  # reached 46.19 dB, 36.31 dB, 0.986, 0.986
    "fast": (44.9, 36.3, 0.970, 0.977),  # reached 45.16 dB, 36.57 dB, 0.980, 0.988
}
# eval/ with the model card's key (32 px blocks): (secret PSNR, cover PSNR, largest secret loss).
KEYED_EVAL_SET = {
    "default": (35.4, 39.9, 0.95),  # reached 35.65 dB, 40.12 dB, 0.90 dB (v6 0.79 dB)
    "fast": (35.4, 39.7, 1.15),  # reached 35.60 dB, 39.88 dB, 1.06 dB (target: 1.2 dB)
}
KEY_COST_TARGET = {"default": 1.0, "fast": 1.2}
# scikit-image photos at 384 px with a key (32 px blocks): the largest loss of secret PSNR to it.
SCRAMBLING_LOSS = {"default": 0.95, "fast": 0.9}
# scikit-image photos at 384 px with a key (32 px blocks): the keyed secret PSNR.
SCRAMBLED_PHOTOS = {
    "default": 33.0,  # reached 33.28 dB (34.21 dB without the key)
    "fast": 33.2,  # reached 33.45 dB (34.28 dB without the key)
}


def assert_levels(summary, levels):
    cover_psnr, secret_psnr, cover_ssim, secret_ssim = levels
    assert summary["cover_psnr"] >= cover_psnr, summary
    assert summary["secret_psnr"] >= secret_psnr, summary
    assert summary["cover_ssim"] >= cover_ssim, summary
    assert summary["secret_ssim"] >= secret_ssim, summary


def load_networks(files):
    return inference.load_network(files["hide"], "hide"), inference.load_network(files["reveal"], "reveal")


@pytest.fixture(scope="module")
def networks(shipped_models):
    """Each shipped model's (hide, reveal) networks in turn; ``model_name`` says which."""
    return load_networks(shipped_models)


@pytest.fixture(scope="module")
def model_name(shipped_models):
    return shipped_models["name"]


def run_pairs(networks, pairs, key=None):
    hide_network, reveal_network = networks
    rows, baseline_rows, _ = evaluation.evaluate(hide_network, reveal_network, pairs,
                                                 BlockScrambler(key) if key else None, batch_size=4)
    return metrics.summarize(rows), metrics.summarize(baseline_rows)


def test_shipped_model_on_scikit_image_photos(networks, model_name, photo_paths):
    summary, baseline = run_pairs(networks, evaluation.pairs_from_photos(photo_paths))
    assert_levels(summary, PHOTOS[model_name])
    # The residual barely shows the secret's picture (default reached -0.013, fast -0.01; the
    # first model 0.295).
    assert abs(summary["residual_secret_correlation"]) < 0.15, summary


@pytest.fixture(scope="module")
def damage(networks, photo_paths):
    """Secret PSNR of one scikit-image pair (256 px) revealed from the container as written, with its
    lowest bit zeroed, and through JPEG q75 (``evaluation.damage_tolerance``)."""
    secret, cover, _, _ = next(evaluation.pairs_from_photos(photo_paths, limit=256))
    return evaluation.damage_tolerance(*networks, secret, cover)


@pytest.fixture(scope="module")
def lowest_bit_zeroed(damage):
    return damage["as_written"], damage["lowest_bit_zeroed"]


def test_zeroing_the_lowest_bit_keeps_the_secret(lowest_bit_zeroed):
    # Unlike LSB steganography, the model spreads the secret over all bits: losing the lowest bit
    # leaves it recognisable. Reached: default v8 36.14 -> 33.96 dB (-2.19 dB; v7 -2.43, v6 -3.23 dB), fast
    # 35.90 -> 33.53 dB (-2.37 dB), the `unshuffled` model -0.43 dB.
    intact, damaged = lowest_bit_zeroed
    assert damaged >= 33.0 and damaged >= intact - 2.8, (intact, damaged)


@pytest.mark.xfail(strict=True, reason="the shipped invertible models lose 2.2-2.4 dB of secret when the container's lowest bit "
                                       "is zeroed (the unshuffled model 0.43 dB); remove this mark when it passes")
def test_secret_is_not_in_the_low_bits(lowest_bit_zeroed):
    intact, damaged = lowest_bit_zeroed
    assert damaged >= intact - 1.0, (intact, damaged)


def test_lossy_container_loses_the_secret(damage):
    lossless, lossy = damage["as_written"], damage["jpeg_q75"]
    # Measured: JPEG q75 costs the default model 19.8 dB (35.7 -> 15.9 dB), fast 20.1 dB (the
    # first, weaker model lost only 1.9 dB). This is why the scripts refuse lossy containers.
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


def test_shipped_model_on_the_evaluation_set(evaluation_set, model_name):
    summary, _ = evaluation_set
    assert summary["pairs"] >= 80
    assert_levels(summary, EVAL_SET[model_name])
    assert abs(summary["residual_secret_correlation"]) < 0.15, summary  # reached 0.034 (fast 0.035)


def test_key_on_the_evaluation_set_at_the_level_reached(evaluation_set, model_name):
    # Reached with the default 32 px blocks: default v8 secret 36.55 -> 35.65 dB (-0.90 dB), cover
    # 40.42 -> 40.12 dB (-0.30 dB); fast 36.66 -> 35.60 dB (-1.06 dB), 40.17 -> 39.88 dB. The
    # `unshuffled` model (16 px) had 33.68 dB keyed, 37.82 dB cover.
    plain, keyed = evaluation_set
    secret_level, cover_level, largest_loss = KEYED_EVAL_SET[model_name]
    assert keyed["secret_psnr"] >= secret_level, keyed
    assert keyed["cover_psnr"] >= cover_level, keyed
    assert keyed["secret_psnr"] >= plain["secret_psnr"] - largest_loss, (plain, keyed)
    assert keyed["cover_psnr"] >= plain["cover_psnr"] - 0.6, (plain, keyed)
    assert abs(keyed["residual_secret_correlation"]) < 0.1, keyed  # reached -0.009 (fast -0.008)


def test_key_costs_the_evaluation_set_at_most_its_target(evaluation_set, model_name):
    plain, keyed = evaluation_set
    assert keyed["secret_psnr"] >= plain["secret_psnr"] - KEY_COST_TARGET[model_name], (plain, keyed)


@pytest.mark.skipif(not shared_available(), reason="../shared/data is not present")
def test_shipped_model_on_full_resolution_video_frames(networks, model_name):
    clips = [SHARED_DATA / "videos" / clip for clip in evaluation.QUALITY_TEST_CLIPS]
    summary, _ = run_pairs(networks, evaluation.pairs_from_frames(clips, frame_index=10))
    assert_levels(summary, VIDEO_FRAMES[model_name])


@pytest.fixture(scope="module")
def plain_and_scrambled(networks, photo_paths):
    plain, _ = run_pairs(networks, evaluation.pairs_from_photos(photo_paths, limit=384))
    scrambled, _ = run_pairs(networks, evaluation.pairs_from_photos(photo_paths, limit=384), key="quality test key")
    return plain, scrambled


def test_scrambling_cost_at_the_level_reached(plain_and_scrambled, model_name):
    plain, scrambled = plain_and_scrambled
    # Reached with the default 32 px blocks: default v8 secret 34.21 -> 33.28 dB (-0.93 dB; v7
    # 34.04 -> 33.18, -0.86 dB: v8's unkeyed secret gained more than its keyed one), cover 38.52 ->
    # 38.26 dB (-0.26 dB), with 16 px blocks 32.48 dB; fast 34.28 -> 33.45 dB (-0.83 dB), 38.74 ->
    # 38.43 dB. v6: 33.20 -> 32.51 dB (-0.69 dB). The `unshuffled` model (16 px) had 30.87 -> 29.14
    # dB (-1.74 dB).
    assert scrambled["secret_psnr"] >= SCRAMBLED_PHOTOS[model_name], (plain, scrambled)
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - SCRAMBLING_LOSS[model_name], (plain, scrambled)
    assert scrambled["cover_psnr"] >= plain["cover_psnr"] - 0.5, (plain, scrambled)


def test_scrambling_costs_at_most_one_db(plain_and_scrambled):
    plain, scrambled = plain_and_scrambled
    assert scrambled["secret_psnr"] >= plain["secret_psnr"] - 1.0, (plain, scrambled)


@pytest.fixture(scope="module")
def revealed_demo_frames(default_model, clip_paths, tmp_path_factory):
    """The demo's case with the default model, 15 frames: bikes hidden with a key in carphone,
    revealed; (revealed, originals)."""
    return evaluation.video_round_trip(*load_networks(default_model), clip_paths["bikes.mp4"], clip_paths["carphone_pristine.mp4"],
                                       tmp_path_factory.mktemp("enhancement"), key="enhancement test", max_frames=15)


def test_default_video_enhancement_never_lowers_the_reveal_and_cleans_a_noisy_one(revealed_demo_frames):
    """The demo's keyed reveal (v8 reached 38.34 dB / 0.9701) holds no white noise to remove, so the
    default, adaptive enhancement leaves it as it is. (A fixed h = 1.5, the earlier default, moved
    it to 38.65 dB but lowered its SSIM to 0.9699, and lost up to 0.8 dB on other real reveals;
    docs/experiments.md.) With white noise of standard deviation 3 added, the default chooses a
    strength near the best measured (1.5-2.25), h 1.62, gains 2.96 dB (35.43 -> 38.38 dB), more over 5 frames than frame
    by frame (37.99 dB) and more than with sharpening (37.94 dB)."""
    import dataclasses

    import numpy as np

    from deepsteg.enhance import VIDEO_SETTINGS, adapted

    revealed, originals = revealed_demo_frames

    def quality(frames):
        return evaluation.mean_quality(originals, frames)

    before_psnr, before_ssim = quality(revealed)
    assert before_psnr >= 38.0 and before_ssim >= 0.965, (before_psnr, before_ssim)  # the keyed reveal itself
    default_psnr, default_ssim = quality(list(enhance_frames(revealed)))
    assert default_psnr >= before_psnr and default_ssim >= before_ssim, (before_psnr, before_ssim, default_psnr, default_ssim)
    rng = np.random.default_rng(0)
    noisy = [np.clip(np.rint(frame + rng.normal(0, 3, frame.shape)), 0, 255).astype(np.uint8) for frame in revealed]
    settings = adapted(VIDEO_SETTINGS, noisy)
    noisy_psnr, noisy_ssim = quality(noisy)
    cleaned_psnr, cleaned_ssim = quality(list(enhance_frames(noisy)))
    frame_by_frame_psnr, _ = quality(list(enhance_frames(noisy, dataclasses.replace(settings, temporal_window=1))))
    sharpened_psnr, _ = quality(list(enhance_frames(noisy, dataclasses.replace(settings, sharpen_amount=0.3))))
    assert 1.0 <= settings.denoise_strength <= 2.5, settings
    assert cleaned_psnr >= noisy_psnr + 2.5 and cleaned_ssim > noisy_ssim, (noisy_psnr, cleaned_psnr)
    assert cleaned_psnr >= frame_by_frame_psnr + 0.25 and cleaned_psnr >= sharpened_psnr + 0.3, (cleaned_psnr, frame_by_frame_psnr,
                                                                                                sharpened_psnr)
