"""Full-page cache (placeholder until the cache issue lands)."""
