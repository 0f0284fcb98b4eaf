"""Benchmarks of speed, consistency and faults: `make bench` (`QUICK=1` for a
two-minute run), on the `bench` stack (deploy/localstack.py, STACK_NAME=bench).

`run.py` orchestrates the parts, one module each: `peers` (ceiling and
peers with wrk; `summary` takes the ratios), `mixed` (the mixed workload of
`workload`, checked by `consistency`), `stampede`, `faults`, `growth`
(with `growth_probe`) and `invalidation_cost`. The plumbing: `stack` (the
servers and the seeded blog), `servers` (gunicorn on deploy/gunicorn.conf.py
for `ceiling_app`, the site, `plain_django` with or without
`stock_settings`), `wrk` (+ `report.lua`, `replay.lua`), `http_client`,
`pages`, `zipf`, `counters`, `dbstats`, `sentry_sink`, and `report` +
`chart` for bench/results/latest.{json,md} and throughput.png. A quick run
writes to bench/results/tmp/quick/ instead.

Needs wrk (Debian's package, installed when root), the bench-only packages
of bench/requirements.txt and the project's own requirements.
"""
