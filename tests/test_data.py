"""Training pairs from folders of real photos (deepsteg.data.PairDataset)."""

import numpy as np
import pytest

from deepsteg.data import PairDataset, RandomScrambling


def test_batches_are_pairs_of_different_photos_in_range(photo_folder):
    dataset = PairDataset(photo_folder, image_size=32, batch_size=4, steps=3, augment=True, seed=0)
    (secrets, covers), (cover_targets, secret_targets) = dataset[0]
    assert secrets.shape == covers.shape == (4, 32, 32, 3) and secrets.dtype == np.float32
    assert 0 <= secrets.min() and secrets.max() <= 1
    assert np.array_equal(cover_targets, covers) and np.array_equal(secret_targets, secrets)
    assert all(not np.array_equal(secret, cover) for secret, cover in zip(secrets, covers))
    with pytest.raises(IndexError):
        dataset[3]


def test_validation_is_fixed_and_training_changes_every_epoch(photo_folder):
    validation = PairDataset(photo_folder, image_size=32, batch_size=4, steps=2, augment=False, seed=5)
    first = validation[1][0][0]
    validation.on_epoch_end()
    assert np.array_equal(first, validation[1][0][0])
    training = PairDataset(photo_folder, image_size=32, batch_size=4, steps=2, augment=True, seed=5)
    first = training[1][0][0]
    training.on_epoch_end()
    assert not np.array_equal(first, training[1][0][0])


def test_a_resumed_dataset_goes_on_where_an_uninterrupted_one_is(photo_folder):
    uninterrupted = PairDataset(photo_folder, image_size=32, batch_size=4, steps=2, seed=5)
    first_epoch = uninterrupted[0][0][0]
    for _ in range(3):
        uninterrupted.on_epoch_end()
    resumed = PairDataset(photo_folder, image_size=32, batch_size=4, steps=2, seed=5)
    resumed.start_at_epoch(3)
    assert np.array_equal(resumed[0][0][0], uninterrupted[0][0][0])
    assert not np.array_equal(resumed[0][0][0], first_epoch)
    with pytest.raises(ValueError, match="epoch"):
        resumed.start_at_epoch(-1)


def test_cached_photos_give_the_same_batches(photo_folder):
    plain = PairDataset(photo_folder, image_size=32, batch_size=4, steps=2, seed=3)
    cached = PairDataset(photo_folder, image_size=32, batch_size=4, steps=2, seed=3, cache=True)
    for index in (0, 1, 0):
        assert np.array_equal(plain[index][0][0], cached[index][0][0])
    assert 0 < len(cached.cache) <= len(cached.files)


def test_scrambled_secrets_keep_their_pixels(photo_folder):
    plain = PairDataset(photo_folder, image_size=32, batch_size=6, steps=1, seed=2)
    scrambled = PairDataset(photo_folder, image_size=32, batch_size=6, steps=1, seed=2, scrambler=RandomScrambling(1.0, block_size=8))
    (plain_secrets, _), _ = plain[0]
    (scrambled_secrets, _), _ = scrambled[0]
    # The first secret is the same crop, then scrambled (after it, the scrambler's random draw
    # shifts the stream, so the rest of the batch differs).
    original, shuffled = plain_secrets[0], scrambled_secrets[0]
    assert not np.array_equal(original, shuffled)
    assert np.array_equal(np.sort(original, axis=None), np.sort(shuffled, axis=None))


def test_bad_arguments(photo_folder, tmp_path):
    with pytest.raises(ValueError, match="no images"):
        PairDataset(tmp_path)
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "only.png").write_bytes((photo_folder / sorted(p.name for p in photo_folder.iterdir())[0]).read_bytes())
    with pytest.raises(ValueError, match="two images"):
        PairDataset(tmp_path / "one")
    with pytest.raises(ValueError, match="image_size"):
        PairDataset(photo_folder, image_size=4)
