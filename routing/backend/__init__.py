"""The primary's database backend (ENGINE "routing.backend"): Django's
PostgreSQL backend that also notices committed writes, for read-your-writes.
See base.py; the replicas keep Django's own backend."""
