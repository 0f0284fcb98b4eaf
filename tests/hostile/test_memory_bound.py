"""Per-process memory stays bounded whatever URLs arrive."""
import json
import os
import subprocess
import sys

from tests.fixtures.cluster import REPO

JUNK_URLS = 100_000
MAX_GROWTH = 10 * 1024 * 1024


def test_a_hundred_thousand_junk_urls_grow_a_process_by_less_than_10_mib():
    """Check that the fast path's per-process tables (resolved paths, valid
    hosts, the scrubber's key cache) stay within their byte budgets: before,
    a 64k-entry cache keyed on 4 KB paths could take ~200 MB per worker."""
    result = subprocess.run([sys.executable, "-m", "tests.hostile.junk_memory", str(JUNK_URLS)],
                            cwd=REPO, env=os.environ.copy(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    growth = measured["after"] - measured["before"]
    print(f"{JUNK_URLS} junk URLs: RSS grew {growth / 2**20:.1f} MiB "
          f"(resolved paths and keys tables {measured['key_tables'] / 2**20:.1f} MiB)")
    assert growth < MAX_GROWTH
