"""Benchmarks of speed, consistency and faults: `make bench` (`QUICK=1` for a
two-minute run), on the `bench` stack (deploy/localstack.py, STACK_NAME=bench,
ports from STACK_PORT_BASE). docs/benchmarks.md says what each part measures.

`run.py` orchestrates the parts, one module each: `peers` (the three
ceilings and the peers with wrk; `summary` takes the ratios),
`profile_hit` (py-spy on a cache hit), `mixed` (the mixed workload of
`workload`, checked by `consistency`, its load attributed per request class
and server by `attribution`), `stampede`, `faults` (with `fault_figures`;
the failover and switchover under load), `failover` (the drill alone, and
`sync_cost`), `growth` (with `growth_probe`) and `invalidation_cost`. The
plumbing: `stack` (the members, the servers and the seeded blog), `servers`
(gunicorn on deploy/gunicorn.conf.py for the site, `plain_django` with or
without `stock_settings`, and on `ceiling.conf.py` for `ceiling_app`), `wrk`
(+ `report.lua`, `replay.lua`), `http_client`, `pages`, `zipf`, `counters`,
`dbstats`, and `report` (+ `report_targets`, `report_faults`,
`report_tables`) and `chart` for bench/results/latest.{json,md} and
throughput.png. A quick run writes to bench/results/tmp/quick/ instead. The suite's own helpers serve
here too: tests/fixtures/sentry_endpoint.py (the Sentry every bench server
reports to) and tests/fixtures/html_forms.py (the comment form).

Needs wrk (Debian's package, installed when root), the bench-only packages
of bench/requirements.txt and the project's own requirements.
"""
