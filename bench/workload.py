"""A closed-loop mixed workload of Python clients (threads, http.client
keep-alive, a cookie jar each), recording every request for the
consistency check.

* Readers: anonymous; each thread becomes a new client (new connection,
  empty jar) every NEW_CLIENT_EVERY requests. Pages are drawn by Zipf from
  the ranked reader pages (posts, home pages, tags, authors, archives and
  feed, hottest first: bench/pages.py `ranked_pages`, as in part 1).
* Writers: one session each for the whole run. A writer reads a post
  (Zipf over the ranked posts), and while writes are below `write_share` of
  all requests it comments through the page's own form, then reads the
  post back.

The fault runner sets `workload.phase` while it runs; every event carries
the phase in which its request started.
"""
import random
import re
import threading
import time

from tests.fixtures.html_forms import COMMENT_ACTION, find_form

from .attribution import db_usage
from .consistency import Event
from .http_client import HttpClient, comment_ids
from .zipf import ZipfSampler

NEW_CLIENT_EVERY = 40
POST_PATH = re.compile(r"^/posts/([^/]+)/$")
COMMENT_LOCATION = re.compile(r"#comment-(\d+)$")


class Workload:
    def __init__(self, port, ranked, readers, writers, write_share, seed=1):
        self.port, self.readers, self.writers, self.write_share = port, readers, writers, write_share
        self.seed = seed
        self.pages = list(ranked)
        self.posts = [path for path in ranked if POST_PATH.match(path)]
        self.events = []
        self.phase = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.requests = 0
        self.writes = 0

    # --- what to ask for --------------------------------------------------------
    def samplers(self, rng):
        return {"page": ZipfSampler(len(self.pages), rng=rng), "post": ZipfSampler(len(self.posts), rng=rng)}

    def pick_page(self, rng, samplers):
        return samplers["page"].choice(self.pages)

    def may_write(self):
        with self._lock:
            return self.writes < self.write_share * max(self.requests, 1)

    # --- recording ----------------------------------------------------------------
    def record(self, kind, client_name, path, reply, phase, post="", comment_id=0):
        db_server, db_queries = db_usage(reply.header("server-timing"))
        event = Event(kind=kind, client=client_name, path=path, start=reply.start, end=reply.end,
                      status=reply.status, request_id=reply.header("x-request-id"), post=post,
                      x_cache=reply.header("x-cache"), comment_id=comment_id,
                      pinned="pin" in reply.sent_cookies, pin_change=reply.pin_change,
                      phase=phase, error=reply.error, db_server=db_server, db_queries=db_queries)
        if kind == "read" and post and reply.status == 200:
            event.comments = comment_ids(reply.body)
        with self._lock:
            self.requests += 1
            self.writes += kind == "write"
        self.events.append(event)
        return event

    def read(self, client, client_name, path):
        phase = self.phase
        reply = client.get(path)
        found = POST_PATH.match(path)
        self.record("read", client_name, path, reply, phase, post=found.group(1) if found else "")
        return reply

    # --- clients --------------------------------------------------------------------
    def reader(self, number):
        rng = random.Random(self.seed * 1000 + number)
        samplers = self.samplers(rng)
        client, generation = None, 0
        while not self._stop.is_set():
            if client is None or generation % NEW_CLIENT_EVERY == 0:
                if client is not None:
                    client.close()
                client = HttpClient(self.port)
                name = f"reader-{number}-{generation // NEW_CLIENT_EVERY}"
            self.read(client, name, self.pick_page(rng, samplers))
            generation += 1
        client.close()

    def writer(self, number):
        rng = random.Random(self.seed * 1000 + 500 + number)
        samplers = self.samplers(rng)
        client, name, written = HttpClient(self.port), f"writer-{number}", 0
        while not self._stop.is_set():
            path = samplers["post"].choice(self.posts)
            page = self.read(client, name, path)
            if page.status != 200 or not self.may_write():
                self.read(client, name, self.pick_page(rng, samplers))
                continue
            action, fields = find_form(page.body, COMMENT_ACTION)
            if action is None:
                continue
            written += 1
            fields.update({"name": f"Bench {name}", "body": f"Benchmark comment {written} by {name}."})
            phase = self.phase
            reply = client.post_form(action, fields, referer_path=path)
            found = COMMENT_LOCATION.search(reply.header("location"))
            event = self.record("write", name, action, reply, phase, post=POST_PATH.match(path).group(1),
                                comment_id=int(found.group(1)) if reply.status == 303 and found else 0)
            if reply.status == 503:
                event.error = "read-only" if b"read-only" in reply.body.lower() else "503 without read-only notice"
            self.read(client, name, path)  # read one's own post back
        client.close()

    def run(self, seconds, during=None):
        """Run for `seconds` (bounded), calling `during(workload)` meanwhile if given."""
        threads = [threading.Thread(target=self.reader, args=(n,), daemon=True) for n in range(self.readers)]
        threads += [threading.Thread(target=self.writer, args=(n,), daemon=True) for n in range(self.writers)]
        started = time.time()
        for thread in threads:
            thread.start()
        try:
            if during is not None:
                during(self)
            remaining = started + seconds - time.time()
            if remaining > 0:
                self._stop.wait(remaining)
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=30)
        return time.time() - started

    def stop(self):
        self._stop.set()
