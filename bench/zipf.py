"""Zipf-distributed choices: rank k (1-based) is drawn with probability
proportional to 1 / k**s. s = 1 is the classic shape of web page popularity.

    sampler = ZipfSampler(10_000, s=1.0, rng=random.Random(7))
    sampler.rank()            # 1 .. n
    sampler.choice(items)     # items[rank - 1]: order items hottest first
"""
import bisect
import itertools
import random


class ZipfSampler:
    def __init__(self, n, s=1.0, rng=None):
        if n < 1:
            raise ValueError("a Zipf sampler needs at least one item")
        self.n, self.s = n, s
        self.rng = rng or random.Random()
        weights = [1.0 / (k ** s) for k in range(1, n + 1)]
        total = sum(weights)
        self.cdf = list(itertools.accumulate(w / total for w in weights))
        self.cdf[-1] = 1.0

    def probability(self, rank):
        """The chance of drawing `rank`."""
        return self.cdf[rank - 1] - (self.cdf[rank - 2] if rank > 1 else 0.0)

    def rank(self):
        return bisect.bisect_left(self.cdf, self.rng.random()) + 1

    def choice(self, items):
        return items[self.rank() - 1]


def hottest_first(items, seed=2026):
    """A fixed shuffle of `items`: which ones are hot is arbitrary but repeatable."""
    ordered = list(items)
    random.Random(seed).shuffle(ordered)
    return ordered
