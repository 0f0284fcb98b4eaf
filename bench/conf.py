"""How big and how long each part of the benchmark is: the full run (within
twenty-five minutes on the 2-CPU machine) and the quick one (about three)."""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool
    posts: int                 # the seeded blog
    zipf_pages: int            # pages the Zipf mix draws from
    zipf_draws: int            # the pre-drawn request sequence wrk replays
    wrk_seconds: int
    reps: int                  # each config measured this often; the median is kept
    miss_paths_per_run: int    # distinct never-cached posts per miss measurement
    mixed_seconds: int
    mixed_warmup_seconds: int  # left out of the steady-state figures
    mixed_readers: int
    mixed_writers: int
    replica_delay: str         # recovery_min_apply_delay during the mixed workload
    stampede_rounds: int
    stampede_seconds: float    # per round
    fault_seconds: int         # per phase
    short_faults: tuple        # components lost, then started, before the failover
    failover_trials: int       # the failover drill alone (part `failover`; the quick run leaves it out)
    sync_cost_rounds: int      # comment POSTs with synchronous_commit on / local, interleaved
    sync_cost_per_round: int
    growth_small: int
    growth_large: int
    growth_repeats: int
    invalidation_pages: tuple  # cached pages showing the invalidated tags: few, many
    tier_warm_seconds: int     # the Zipf sequence replayed, unmeasured, on each project server
    profile_seconds: int       # py-spy on the project's workers serving the hot page
    zipf_s: float = 1.0
    write_share: float = 0.03
    stampede_clients: int = 200
    worker_classes: tuple = ("sync", "gthread")

    def as_dict(self):
        return asdict(self)


# Part 1 measures as issue #17 did: wrk runs of 5 s, 3 interleaved
# repetitions. Runs of 3 s, 5 repetitions (the same 15 s per config) let a
# burst of the other tenants' load cover one run of a pair and not its
# neighbour: the two ceilings, identical but for 13 headers, measured
# 0.78-1.14 of each other run by run (stop 33's full run), and any one of five
# repetitions below 0.75 fails a target.
FULL = Plan(quick=False, posts=10_000, zipf_pages=10_000, zipf_draws=6_000, wrk_seconds=5, reps=3,
            miss_paths_per_run=600, mixed_seconds=75, mixed_warmup_seconds=15, mixed_readers=16, mixed_writers=8,
            replica_delay="1s", stampede_rounds=3, stampede_seconds=3.0, fault_seconds=6,
            short_faults=("replica2", "redis", "primary"),
            failover_trials=5, sync_cost_rounds=30, sync_cost_per_round=10,
            growth_small=1_000, growth_large=100_000, growth_repeats=15,
            invalidation_pages=(10, 10_000), tier_warm_seconds=15, profile_seconds=10)

QUICK = Plan(quick=True, posts=2_000, zipf_pages=1_000, zipf_draws=500, wrk_seconds=1, reps=1,
             miss_paths_per_run=300, mixed_seconds=10, mixed_warmup_seconds=4, mixed_readers=12, mixed_writers=5,
             replica_delay="500ms", stampede_rounds=1, stampede_seconds=2.0, fault_seconds=2,
             short_faults=("replica2", "redis"),
             failover_trials=0, sync_cost_rounds=4, sync_cost_per_round=10,
             growth_small=1_000, growth_large=10_000, growth_repeats=5,
             invalidation_pages=(10, 1_000), tier_warm_seconds=2, profile_seconds=3)
