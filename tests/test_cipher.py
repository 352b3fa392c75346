import numpy as np
import pytest

from deepsteg import imageio
from deepsteg.cipher import SCRAMBLED_BLOCKINESS, BlockScrambler, blockiness, check_unscrambled


@pytest.mark.parametrize("shape,block", [((64, 64, 3), 16), ((50, 77, 3), 16), ((33, 35), 8), ((7, 9, 3), 16), ((40, 40, 3), 1)])
def test_inverse_is_exact_for_any_size(shape, block):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    scrambler = BlockScrambler("correct horse", block)
    for index in (0, 5):
        scrambled = scrambler.scramble(image, index)
        assert np.array_equal(scrambler.unscramble(scrambled, index), image)
        if image.size > 3 * block * block:
            assert not np.array_equal(scrambled, image)


def test_every_pixel_is_moved_somewhere_consistent():
    # Scrambling is a permutation of pixel positions: sorted values are unchanged.
    image = np.random.default_rng(3).integers(0, 256, (45, 61, 3), dtype=np.uint8)
    scrambled = BlockScrambler("k", 8).scramble(image, 2)
    assert np.array_equal(np.sort(scrambled.reshape(-1, 3), axis=0), np.sort(image.reshape(-1, 3), axis=0))


def test_wrong_key_and_wrong_frame_do_not_invert(photo_paths):
    photo = imageio.read_image(photo_paths[0])
    right = BlockScrambler("the key", 16)
    scrambled = right.scramble(photo, 3)
    assert not np.array_equal(BlockScrambler("the kez", 16).unscramble(scrambled, 3), photo)
    assert not np.array_equal(right.unscramble(scrambled, 4), photo)
    assert not np.array_equal(right.scramble(photo, 0), right.scramble(photo, 1))


def test_same_key_gives_same_permutation_across_instances():
    image = np.random.default_rng(0).integers(0, 256, (64, 48, 3), dtype=np.uint8)
    assert np.array_equal(BlockScrambler("k", 16).scramble(image, 9), BlockScrambler("k", 16).scramble(image, 9))


def test_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        BlockScrambler("", 16)
    with pytest.raises(ValueError, match="block size"):
        BlockScrambler("k", 0)


def test_blockiness_detects_scrambling_and_wrong_key(photo_paths):
    for path in photo_paths[:4]:
        photo = imageio.read_image(path)
        scrambled = BlockScrambler("key", 16).scramble(photo, 0)
        assert blockiness(photo, 16) < SCRAMBLED_BLOCKINESS < blockiness(scrambled, 16), path.name
        assert blockiness(BlockScrambler("other", 16).unscramble(scrambled, 0), 16) > SCRAMBLED_BLOCKINESS, path.name
        check_unscrambled(scrambled, "key", 16)  # the right key passes
        check_unscrambled(photo, None, 16)  # no key, nothing scrambled: passes
        with pytest.raises(ValueError, match="wrong --key"):
            check_unscrambled(scrambled, "other", 16)
        with pytest.raises(ValueError, match="wrong --key"):
            check_unscrambled(scrambled, "key", 8)
        with pytest.raises(ValueError, match="sender used --key"):
            check_unscrambled(scrambled, None, 16)


def test_key_check_on_frames_uses_frame_indices(photo_paths):
    photo = imageio.read_image(photo_paths[1])
    scrambler = BlockScrambler("video key", 16)
    frames = [scrambler.scramble(photo, index) for index in (7, 8, 9)]
    check_unscrambled(frames, "video key", 16, indices=[7, 8, 9])
    with pytest.raises(ValueError, match="wrong --key"):
        check_unscrambled(frames, "video key", 16, indices=[0, 1, 2])


def test_flat_pictures_pass_the_key_check():
    flat = np.full((64, 64, 3), 90, np.uint8)
    check_unscrambled(flat, "any key", 16)


def test_random_scrambling_of_training_secrets(photo_paths):
    from deepsteg.data import RandomScrambling
    from deepsteg.imageio import read_image

    photo = read_image(photo_paths[0])[:64, :64]
    def sorted_blocks(picture):
        return sorted(bytes(block) for block in picture.reshape(4, 16, 4, 16, 3).swapaxes(1, 2).reshape(16, -1))

    always, never = RandomScrambling(1.0, 16, keys=2), RandomScrambling(0.0, 16)
    scrambled = [always(photo, index) for index in range(6)]
    for image in scrambled:
        assert not np.array_equal(image, photo)
        assert sorted_blocks(image) == sorted_blocks(photo)  # the same 16 px blocks, moved
    assert len({image.tobytes() for image in scrambled}) == 6  # keys and frame indices vary
    assert np.array_equal(never(photo, 3), photo)
    half = RandomScrambling(0.5, 16, keys=1)
    changed = sum(not np.array_equal(half(photo, index), photo) for index in range(200))
    assert 70 < changed < 130
    with pytest.raises(ValueError, match="fraction"):
        RandomScrambling(1.5)
