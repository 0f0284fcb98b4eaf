"""Benchmarks of speed, consistency and faults: `make bench` (`QUICK=1` for a
two-minute run), on the `bench` stack (deploy/localstack.py, STACK_NAME=bench).

`run.py` orchestrates; each part is one module (`peers`, `mixed`, `stampede`,
`faults`, `growth`), on shared plumbing (`stack`, `servers`, `wrk`,
`http_client`, `pages`, `zipf`, `consistency`). Results go to
`bench/results/latest.{json,md}` and `bench/results/throughput.png`.
Needs wrk (Debian's package), matplotlib (bench/requirements.txt) and the
project's own requirements.
"""
