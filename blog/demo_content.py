"""Words for the demo content (`manage.py seed`): authors, tags, titles,
paragraphs, code and images that read like a real engineering blog.

Everything is drawn from a seeded `random.Random`, so a seed is repeatable.
"""
from django.conf import settings

AUTHORS = [
    ("maya", "Maya Lindqvist", "Database engineer. Has opinions about vacuum and strong ones about indexes."),
    ("tomas", "Tomás Ferreira", "Runs the platform team; writes about the boring parts that keep sites up."),
    ("aiko", "Aiko Tanaka", "Performance work, from query plans to paint timings."),
    ("sam", "Sam Okafor", "Site reliability, incident reviews, and the occasional on-call confession."),
    ("lena", "Lena Brandt", "Backend developer and Django contributor; likes small, sharp tools."),
    ("raj", "Raj Mehta", "Caching, queues and everything between a request and a response."),
    ("claire", "Claire Dubois", "Front-end and accessibility; makes pages that work for everyone."),
    ("jonas", "Jonas Weber", "Security engineer. Reads RFCs so you do not have to."),
]

TAGS = [
    ("PostgreSQL", "The database we trust with everything, and how to keep it happy."),
    ("Replication", "Streaming replicas, lag, failover and reading your own writes."),
    ("Caching", "Page caches, invalidation and the two hard problems."),
    ("Redis", "The Swiss army knife: caches, rate limits, queues."),
    ("Django", "The web framework for perfectionists with deadlines."),
    ("Python", "The language most of our code is written in."),
    ("Performance", "Making things fast, and proving it."),
    ("Operations", "Deploys, on-call, runbooks and sleeping at night."),
    ("Observability", "Logs, metrics, traces and knowing what is going on."),
    ("Security", "Threat models, headers, tokens and safe defaults."),
    ("Testing", "Tests that catch real bugs against real servers."),
    ("Deployment", "Getting code from a laptop to production, safely."),
    ("SQL", "Queries, plans and the art of asking the database nicely."),
    ("Indexes", "B-trees, GIN, partial and covering indexes."),
    ("Scaling", "What changes at ten times the traffic."),
    ("Architecture", "How the pieces fit together, and why."),
    ("Accessibility", "Pages everyone can read and use."),
    ("CSS", "Layout, typography and dark mode without a framework."),
    ("HTTP", "Methods, headers, caching and the protocol underneath it all."),
    ("Postmortems", "What went wrong, what we learned, what we changed."),
    ("Tooling", "The small programs that make the work lighter."),
    ("Search", "Full-text search, ranking and snippets."),
]

TITLE_PATTERNS = [
    "A field guide to {thing}", "What we learned running {thing} in production",
    "Why your {thing} is slower than you think", "{thing_cap} without downtime",
    "The case for {thing}", "Notes on {thing}", "How we cut p99 latency with {thing}",
    "{thing_cap}, explained with one diagram", "Ten questions to ask about {thing}",
    "Debugging {thing} at three in the morning", "{thing_cap}: a practical checklist",
    "When {thing} goes wrong", "Getting {thing} right the second time", "{thing_cap} from first principles",
    "Measuring {thing} honestly", "The hidden cost of {thing}",
]

THINGS = [
    "read replicas", "connection pooling", "cache invalidation", "partial indexes", "streaming replication",
    "WAL archiving", "optimistic locking", "rate limiting", "full-text search", "feature flags",
    "structured logging", "blue-green deploys", "query plans", "background jobs", "schema migrations",
    "load shedding", "HTTP caching", "strong ETags", "Redis eviction", "autovacuum", "keyset pagination",
    "retry budgets", "health checks", "slow query logs", "replica lag", "read-your-writes consistency",
    "denormalised counters", "dark mode", "accessible forms", "CSRF protection", "statement timeouts",
]

SENTENCES = [
    "The first version worked perfectly on a laptop and fell over the first time real traffic arrived.",
    "Most of the cost was not in the query itself but in the round trips around it.",
    "We measured before changing anything, which turned out to be the most useful hour of the project.",
    "A replica that is ten seconds behind is still a perfectly good replica for most pages.",
    "The trick is to know which reads can tolerate a little staleness and which cannot.",
    "Caching a page is easy; knowing when to throw it away is the whole job.",
    "Every denormalised column needs a story for how it stays true, and a check that it does.",
    "We added the index, ran EXPLAIN again, and watched a sequential scan turn into an index-only scan.",
    "None of this matters if nobody can tell when it breaks, so the alerts came first.",
    "The database was never the bottleneck; the connection setup was.",
    "Our rule of thumb: if a page needs more than a handful of queries, something is wrong with the model.",
    "Writers must always see their own writes, even when the replicas are having a bad day.",
    "It is tempting to add a cache in front of every slow thing, and it is almost always a mistake.",
    "A good runbook is written by the person who was paged, the morning after.",
    "Timeouts are a feature: a request that fails fast frees the worker for the next reader.",
    "We kept the old code path behind a flag for two weeks, then deleted it with some ceremony.",
    "Load tests lie unless they look like real traffic, with the long tail and the hot spots.",
    "The fix was three lines; finding where to put them took three days.",
    "Readers never notice a cache hit, but they always notice a slow miss.",
    "We wrote the test first, watched it fail against the real server, and only then wrote the fix.",
    "PostgreSQL will happily tell you what it is doing, if you ask it with EXPLAIN (ANALYZE, BUFFERS).",
    "The simplest design that could survive a failed primary turned out to be good enough.",
    "Each layer of the stack should fail in a way the layer above can handle.",
    "Dark mode is not an inverted stylesheet; it is a second palette chosen with the same care.",
    "Accessibility problems are usually design problems that happen to hurt some people more.",
    "Security headers cost nothing to send and close doors we did not know were open.",
    "We now run the same migrations against a copy of production before every release.",
    "Counting rows is surprisingly expensive at scale, so we stopped doing it on every page.",
    "Rate limits protect the many from the few, and they should fail open when their store is down.",
    "Observability is the difference between guessing and knowing, and guessing is expensive.",
]

LIST_ITEMS = [
    "Measure first, with production-like data.", "Change one thing at a time.",
    "Keep the old path until the new one has proven itself.", "Write down what you expected before you look.",
    "Alert on symptoms readers feel, not on causes.", "Make the safe thing the easy thing.",
    "Prefer boring technology you understand.", "Test against the real server, not a fake.",
]

QUOTES = [
    "There are only two hard things in computer science: cache invalidation and naming things.",
    "Make it work, make it right, make it fast — in that order.",
    "Hope is not a strategy.",
]

CODE_BLOCKS = [
    ("python", 'from django.db.models import F\n\n\ndef add_comment(post, **fields):\n'
               '    """Count with F(): concurrent writers never lose an increment."""\n'
               '    with transaction.atomic():\n        comment = post.comments.create(**fields)\n'
               '        Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)\n'
               '    return comment\n'),
    ("sql", "-- Which replicas are behind, and by how much?\nSELECT application_name,\n"
            "       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS bytes_behind,\n"
            "       replay_lag\n  FROM pg_stat_replication\n ORDER BY bytes_behind DESC;\n"),
    ("sql", "CREATE INDEX CONCURRENTLY post_published_idx\n    ON blog_post (published_at DESC, id DESC)\n"
            " WHERE status = 'published';\n"),
    ("bash", "# Follow the slow queries while the load test runs\n"
             "tail -F /var/log/postgresql/postgresql.log | grep --line-buffered 'duration:'\n"),
    ("python", "import time\n\n\ndef wait_until(predicate, timeout=10.0, interval=0.05):\n"
               '    """Poll instead of sleeping a fixed time: fast when things are fast."""\n'
               "    deadline = time.monotonic() + timeout\n    while not predicate():\n"
               "        if time.monotonic() > deadline:\n            raise TimeoutError(predicate)\n"
               "        time.sleep(interval)\n"),
    ("yaml", "services:\n  web:\n    image: blog:latest\n    environment:\n      DATABASE_URL: postgres://blog@primary/blog\n"
             "      REPLICA_URLS: postgres://blog@replica1/blog,postgres://blog@replica2/blog\n"
             "    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8000/healthz\"]\n"),
    ("css", "@media (prefers-color-scheme: dark) {\n  :root {\n    --bg: #14161a;\n    --text: #e7e4dd;\n"
            "    --accent: #f2a07d;\n  }\n}\n"),
]

IMAGES = [
    ("replication.svg", "A primary database streaming its changes to two read replicas"),
    ("cache-layers.svg", "Requests passing through the page cache before reaching the application"),
    ("latency.svg", "A latency chart where the slowest requests drop after the fix"),
]

SECTION_HEADINGS = [
    "Where we started", "What we measured", "The fix", "What went wrong", "Trade-offs",
    "How it works", "In production", "What we would do differently", "The numbers", "Takeaways",
]

COMMENT_BODIES = [
    "Great write-up, thank you. We hit exactly the same problem last year.",
    "How did you decide on the threshold? We went with five seconds and regretted it.",
    "This is the clearest explanation of `replay_lag` I have read.",
    "Did you consider *keyset pagination* instead? It made our deep pages fast.",
    "We tried something similar and the cache hit ratio went from 60% to 97%.",
    "Thanks! Bookmarking this for the next time someone suggests a cache for everything.",
    "One nit: the index should probably be created `CONCURRENTLY` on a busy table.",
    "Loved the diagram. Any chance you could share the load test scripts?",
    "We learned the same lesson the hard way, during a launch. Wish I had read this first.",
    "Small typo in the second code block, otherwise spot on.",
    "How does this interact with connection poolers like PgBouncer in transaction mode?",
    "The part about failing open made me rethink our rate limiter. Thank you.",
]


def image_url(filename):
    return f"{settings.STATIC_URL}blog/demo/{filename}"
