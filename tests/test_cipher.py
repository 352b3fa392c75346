import hashlib

import numpy as np
import pytest

from deepsteg import imageio
from deepsteg.cipher import DEFAULT_BLOCK_SIZE, SCRAMBLED_BLOCKINESS, BlockScrambler, _tile_groups, blockiness, check_unscrambled


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


@pytest.mark.parametrize("height,width,block", [(144, 176, 32), (255, 384, 32), (7, 9, 16), (480, 640, 32), (720, 1280, 32), (31, 5, 8)])
def test_tiles_cover_every_pixel_once(height, width, block):
    coverage = np.zeros((height, width), dtype=int)
    for top, left, rows, columns, size in _tile_groups(height, width, block):
        assert 1 <= size <= block
        coverage[top: top + rows * size, left: left + columns * size] += 1
    assert np.all(coverage == 1)


def test_edge_strips_are_cut_into_tiles_not_pixels():
    # 176x144 (QCIF) with 32 px blocks leaves 16 px strips: they become 16 px tiles, not pixel noise.
    assert {size for *_, size in _tile_groups(144, 176, 32)} == {32, 16}
    assert [size for *_, size in _tile_groups(720, 1280, 32)] == [32, 16]


@pytest.mark.parametrize("block,digest", [(16, "1ce98ff0bfdaa416"), (8, "c24d89c1ee6fc763")])
def test_whole_blocks_scramble_as_in_the_first_format(block, digest):
    # Digests of the first container format's output: containers made then unscramble the same
    # wherever the image's sides were multiples of the block size.
    image = np.arange(48 * 64, dtype=np.int32).reshape(48, 64)
    assert hashlib.sha256(BlockScrambler("format v1", block).scramble(image, 3).tobytes()).hexdigest()[:16] == digest


def test_with_block_size_is_the_same_key_at_another_size():
    image = np.random.default_rng(1).integers(0, 256, (96, 64, 3), dtype=np.uint8)
    resized = BlockScrambler("k", 32).with_block_size(16)
    assert resized.block_size == 16
    assert np.array_equal(resized.scramble(image, 4), BlockScrambler("k", 16).scramble(image, 4))
    with pytest.raises(ValueError, match="block size"):
        BlockScrambler("k").with_block_size(0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        BlockScrambler("", 16)
    with pytest.raises(ValueError, match="block size"):
        BlockScrambler("k", 0)


@pytest.mark.parametrize("block", [16, DEFAULT_BLOCK_SIZE])
def test_blockiness_detects_scrambling_and_wrong_key(photo_paths, block):
    for path in photo_paths[:4]:
        photo = imageio.read_image(path)
        scrambled = BlockScrambler("key", block).scramble(photo, 0)
        assert blockiness(photo, block) < SCRAMBLED_BLOCKINESS < blockiness(scrambled, block), path.name
        assert blockiness(BlockScrambler("other", block).unscramble(scrambled, 0), block) > SCRAMBLED_BLOCKINESS, path.name
        check_unscrambled(scrambled, "key", block)  # the right key passes
        check_unscrambled(photo, None, block)  # no key, nothing scrambled: passes
        for wrong_size in (block // 2, block * 2):  # the right key with the wrong --block-size: the error names the right one
            with pytest.raises(ValueError, match=f"wrong --key or --block-size \\(used {wrong_size}; this key fits --block-size {block}\\)"):
                check_unscrambled(scrambled, "key", wrong_size)
        with pytest.raises(ValueError, match=r"wrong --key or --block-size \(used \d+\) "):  # a wrong key fits no size
            check_unscrambled(scrambled, "other", block)
        with pytest.raises(ValueError, match="sender used --key"):
            check_unscrambled(scrambled, None, block)


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
