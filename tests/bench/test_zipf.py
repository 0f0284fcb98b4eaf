"""The Zipf sampler behind the bench's page mixes draws what it claims."""
import collections
import random

import pytest

from bench.zipf import ZipfSampler, hottest_first


def test_probabilities_follow_one_over_rank():
    """Check that rank k is drawn with probability proportional to 1 / k**s."""
    sampler = ZipfSampler(1000, s=1.0)
    harmonic = sum(1 / k for k in range(1, 1001))
    for rank in (1, 2, 10, 1000):
        assert sampler.probability(rank) == pytest.approx(1 / (rank * harmonic))
    assert sum(sampler.probability(k) for k in range(1, 1001)) == pytest.approx(1.0)


def test_draws_match_the_distribution():
    """Check that empirical frequencies of many draws match the probabilities."""
    sampler = ZipfSampler(10_000, s=1.0, rng=random.Random(3))
    draws = collections.Counter(sampler.rank() for _ in range(200_000))
    assert draws[1] / 200_000 == pytest.approx(sampler.probability(1), rel=0.05)
    assert draws[1] / draws[2] == pytest.approx(2.0, rel=0.1)
    top_100 = sum(draws[k] for k in range(1, 101)) / 200_000
    assert top_100 == pytest.approx(sum(sampler.probability(k) for k in range(1, 101)), rel=0.03)
    assert min(draws) >= 1 and max(draws) <= 10_000


def test_steeper_exponent_concentrates_draws():
    """Check that a larger s puts more of the traffic on the hottest item."""
    assert ZipfSampler(100, s=1.5).probability(1) > ZipfSampler(100, s=1.0).probability(1)


def test_hottest_first_is_a_repeatable_permutation():
    """Check that the hot-order shuffle keeps every item and is the same each run."""
    items = [f"/posts/{n}/" for n in range(500)]
    assert sorted(hottest_first(items)) == sorted(items)
    assert hottest_first(items) == hottest_first(items)
    assert hottest_first(items) != items
