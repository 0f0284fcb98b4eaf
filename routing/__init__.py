"""Which database a query goes to (placeholder until the routing issue lands)."""
