"""bench/results/latest.json (every figure), latest.md (the tables) and
throughput.png (the chart), from one run's results."""
import json

from . import chart
from .report_faults import failover_section, faults_section
from .report_targets import targets_section
from .report_tables import number, pct, table, verdict
from .summary import COLLAPSE


def write(results, folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    if "peers" in results and "ratios" in results["peers"]:
        chart.draw(results["peers"], results["meta"], folder / "throughput.png")
    (folder / "latest.md").write_text(markdown(results))


def markdown(results):
    meta = results["meta"]
    out = [f"# Benchmark results ({'quick' if meta['plan']['quick'] else 'full'} run)\n",
           f"`{meta['command']}` on {meta['date']}, commit `{meta['commit']}`; {meta['cpu_count']} CPUs; "
           f"load average {meta['loadavg_start']} at the start, {meta.get('loadavg_end')} at the end; "
           f"run took {meta.get('duration_seconds')} s. Versions: "
           + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".\n", targets_section(results)]
    for name, section in (("peers", peers_section), ("profile", profile_section), ("touch", touch_section),
                          ("mixed", mixed_section),
                          ("stampede", stampede_section), ("faults", faults_section),
                          ("failover", failover_section), ("growth", growth_section)):
        if name in results:
            out.append(section(results[name]))
    for part, error in results.get("errors", {}).items():
        out.append(f"\n**{part} failed**: `{error.strip().splitlines()[-1]}` (see latest.json)\n")
    return "\n".join(out)


def peers_section(peers):
    if "medians" not in peers:
        return ""
    classes = list(peers["medians"]["bare-hot"])
    out = ["## 1. Ceilings and peers (wrk, same gunicorn config, identical bodies)\n",
           f"wrk -t{peers['wrk']['threads']} -c{peers['wrk']['connections']} -d{peers['wrk']['seconds']}s, "
           f"{peers['wrk']['reps']} repetition(s), median kept. Hot page `{peers['hot_page']}`; Zipf mix "
           f"(s = {peers['zipf']['s']}) over {peers['zipf']['pages']} pages: {peers['zipf']['draws']} draws "
           f"replayed, {peers['zipf']['distinct_pages_requested']} distinct pages, all warmed first (in Redis, "
           f"then the sequence replayed {peers['warm'].get('tier_replay_seconds_per_server', 0)} s on each "
           f"project server so its workers' memory tiers hold what they serve). Bodies "
           f"identical on every server: **{peers['wire']['bodies_identical']}**. The ceilings: "
           "`bare` (the hit's body with Content-Type and Content-Length only, no access log: the server's "
           "physical limit), `gunicorn` (the same on gunicorn's own workers, not the project's), `headers` (the hit's own headers, no access log), `ceiling` (the same bytes and "
           "the access log). `quiet` is the site without its access log.\n"]
    rows = []
    for config in peers["medians"]:
        for c in classes:
            m = peers["medians"][config][c]
            runs = peers["runs"][config][c]
            renders = f"{sum(r['renders'] for r in runs)} / {sum(r['requests'] for r in runs)}"
            rows.append([config, c, f"{m['throughput']:.0f}", f"{m['p50_ms']:.1f}", f"{m['p99_ms']:.1f}",
                         f"{m['bytes_per_response']:.0f}", number(peers["ratio_to_bare_hot"][config][c], 2),
                         number(m.get("server_cpu_us"), 0), number(m.get("client_cpu_us"), 0),
                         renders, pct(m["throughput_spread"])])
    out.append(table(["config", "workers", "req/s", "p50 ms", "p99 ms", "bytes/resp", "÷ bare (hot)",
                      "server CPU µs/req", "wrk CPU µs/req", "renders / requests", "spread over reps"], rows))
    out.append("\nRenders are counted on the server (the cache's `render` counter; the stock cache's misses), "
               "including the requests still queued when wrk stopped, which wrk does not count. CPU is the "
               "user + system time of the server's master and workers (/proc/<pid>/stat) and of wrk, "
               "divided by the requests wrk counted.\n")
    out.append(ratios_table(peers, classes))
    out.append(spread_table(peers))
    out.append(p99_line(peers.get("p99_gthread_over_sync")))
    out.append(memory_table(peers))
    out.append(worker_class_table(peers.get("worker_class")))
    out.append("\n![throughput per config](throughput.png)\n")
    return "\n".join(out)


def ratio_cell(figures, targeted):
    """median (lowest repetition; every repetition), a collapse of a
    targeted ratio flagged."""
    if figures["median"] is None:
        return "–"
    flag = " ⚠" if targeted and figures["min"] < COLLAPSE else ""
    return f"{figures['median']} (min {figures['min']}{flag}; {', '.join(map(str, figures['per_rep']))})"


def ratios_table(peers, classes):
    rows = []
    by_cpu = peers.get("cpu_ratios", {})
    for name, ratio in peers["ratios"].items():
        target = peers["targets"].get(name, {})
        verdict = ", ".join(f"{c} {'met' if target[c] else '**missed**'}" for c in classes) if target else ""
        cpu = [by_cpu[name][c]["median"] if name in by_cpu else None for c in classes]
        rows.append([name, *[ratio_cell(ratio[c], bool(target)) for c in classes],
                     f"≥ {target['target']}" if target else "", verdict, " / ".join(number(v, 2) for v in cpu)])
    return (f"\nRatios (throughput; median of the per-repetition ratios, the lowest repetition, then each; "
            f"⚠ marks a targeted ratio with a repetition below {COLLAPSE}, which fails the target even when the "
            f"median meets it). The last column makes the same comparison by server CPU per request (the "
            f"divisor's µs over the measured config's, median over repetitions, {' / '.join(classes)}): what a "
            f"request costs moves less than throughput on a shared machine.\n\n"
            + table(["ratio", *classes, "target", "", "by CPU µs/req"], rows))


def spread_table(peers):
    """Keep-alive connections per gthread worker, mid-run: one worker holding
    most of them is the imbalance that caps a gthread server."""
    rows = [[config, "; ".join(str(run.get("connections_per_worker")) for run in runs["gthread"])]
            for config, runs in peers["runs"].items()
            if "gthread" in runs and any(run.get("connections_per_worker") for run in runs["gthread"])]
    if not rows:
        return ""
    return ("\nwrk's connections per gthread worker halfway through each run (most first; each repetition):\n\n"
            + table(["config", "connections per worker"], rows))


def p99_line(figures):
    if not figures:
        return ""
    bare = (f" The bare ceiling's own (the server alone, the same pairing): {figures['bare']}."
            if figures.get("bare") is not None else "")
    return (f"\nHot-page p99 of the project, gthread ÷ sync (paired by repetition): **{figures['median']}** "
            f"(each: {', '.join(map(str, figures['per_rep']))}); target ≤ {figures['target']}: "
            f"{'met' if figures['met'] else '**missed**'}.{bare}\n")


def memory_table(peers):
    memory = peers.get("memory")
    if not memory:
        return ""
    rows = [[name, len(v["workers"]), number(kb(v["median_rss_kb"]), 1), number(kb(v["median_pss_kb"]), 1),
             number(kb(v["median_private_kb"]), 1)] for name, v in memory.items()]
    return (f"\nMemory per worker after the last repetition (the project's workers have served the Zipf mix; "
            f"memory tier budget {peers.get('memory_tier_mb')} MB per process; MB, median over workers):\n\n"
            + table(["server", "workers", "RSS", "PSS", "private"], rows))


def kb(value):
    return None if value is None else value / 1024


def worker_class_table(choice):
    if not choice:
        return ""
    rows = [[config, v["gthread_over_sync"], v["p99_ms"]["sync"], v["p99_ms"]["gthread"]]
            for config, v in choice["compared"].items()]
    verdict = "a clear difference" if choice["decisive"] else "within ±10 %: no clear winner, the default stays"
    return (f"\nWorker class: gthread ÷ sync throughput (paired by repetition); recommended: "
            f"**{choice['recommended']}** (geometric mean over the project's configs "
            f"{choice['project_geometric_mean_gthread_over_sync']}: {verdict}).\n\n"
            + table(["config", "gthread ÷ sync", "p99 sync ms", "p99 gthread ms"], rows))


def touch_section(touch):
    rows = [[name, f"{touch[name]['instructions']:,}", f"{touch[name]['lines_missed']:,}"]
            for name in ("ceiling", "site", "site_logged") if name in touch]
    rows.append(["site ÷ ceiling", number(touch["site_over_ceiling"]["instructions"], 3),
                 number(touch["site_over_ceiling"]["lines_missed"], 3)])
    log = touch.get("access_log_share")
    if log:
        rows.append(["access log ÷ logged hit", pct(log["instructions"]), pct(log["lines_missed"])])
    return ("## What a hit touches (callgrind, bench/touch.py)\n\n"
            f"The hot page's cache hit and the `headers` ceiling's, per request: {touch['method']}. "
            f"The site's hit brings **{touch['extra_lines_per_hit']:,}** more cache lines from memory than "
            "the ceiling's. `site_logged` is the site's hit with its access log on (flushed once per round); "
            "the log's share is what that adds, over the logged hit's count.\n\n"
            + table(["application", "instructions", "cache lines missed"], rows))


def profile_section(profile):
    rows = [[f"`{frame}`", pct(share), pct(profile["self"].get(frame))]
            for frame, share in list(profile["inclusive"].items())[:25]]
    return (f"## Where a hit's time goes (py-spy, {profile['server']}, hot page `{profile['hot_page']}`)\n\n"
            f"{profile['samples']} samples of workers serving a request ({profile['rate']} Hz, "
            f"{profile['seconds']} s); share of them with the function on the stack (inclusive) and at its "
            f"top (self). Folded stacks: `{profile['folded_stacks']}`.\n\n"
            + table(["function", "inclusive", "self"], rows))


def mixed_section(mixed):
    c = mixed["consistency"]
    rows = [["throughput (req/s)", mixed["throughput"]], ["requests / clients", f"{mixed['requests']} / {mixed['clients']}"],
            ["write share (comments)", pct(mixed["write_share"])],
            ["hit ratio, every 200 read (X-Cache HIT+STALE)", pct(mixed["hit_ratio"])],
            ["hit ratio (server's pc:stats counters)", pct(mixed["server_hit_ratio"])],
            ["replica apply delay / max replay lag seen", f"{mixed['replica_delay']} / {mixed['replay_lag_max_seconds']} s"],
            ["bound B used", f"{c['bound_seconds']} s"]]
    rows += [[f"{rule.replace('_', ' ')} violations", f"**{c[rule]['violations']}** of {c[rule]['checked']} reads checked"]
             for rule in ("read_your_writes", "bounded_staleness", "monotonic_reads")]
    rows += [["acknowledged comments missing afterwards",
              f"{mixed['acknowledged_comments']['missing']} of {mixed['acknowledged_comments']['acknowledged']}"],
             ["read statuses", mixed["read_statuses"]], ["write statuses", mixed["write_statuses"]]]
    examples = [e for rule in ("read_your_writes", "bounded_staleness", "monotonic_reads") for e in c[rule]["examples"]]
    tail = "\nViolations seen (first ones):\n\n```\n" + "\n".join(map(str, examples[:10])) + "\n```\n" if examples else ""
    out = ["## 2. Mixed workload, replicas lagging\n",
           f"{mixed['readers']} anonymous readers and {mixed['writers']} writers (comments, then their post read "
           f"back) for {mixed['seconds']} s.\n", table(["figure", "value"], rows) + tail]
    if "by_class" in mixed:
        out.append(issue_15_tables(mixed))
    return "\n".join(out)


def issue_15_tables(mixed):
    targets, steady = mixed["targets"], mixed["steady_state"]
    share, hits = targets["primary_share_of_anonymous_reads"], targets["steady_state_hit_ratio"]
    consistency_ok = all(mixed["consistency"][rule]["violations"] == 0
                         for rule in ("read_your_writes", "bounded_staleness", "monotonic_reads"))
    rows = [["primary's share of anonymous GETs' read queries", f"≤ {pct(share['target'])}",
             pct(share["value"]), verdict(share)],
            [f"anonymous GETs served from the cache in steady state (after {mixed['warmup_seconds']} s)",
             f"≥ {pct(hits['target'])}", f"{pct(hits['value'])} (HIT alone {pct(steady['hit_only_ratio'])}, "
             f"STALE {pct(steady['stale_share'])})", verdict(hits)],
            ["read-your-writes, monotonic, bounded-staleness violations", "0",
             " / ".join(str(mixed["consistency"][rule]["violations"])
                        for rule in ("read_your_writes", "monotonic_reads", "bounded_staleness")),
             "met" if consistency_ok else "**missed**"]]
    servers = sorted({alias for entry in mixed["by_class"].values() for alias in entry["queries"]})
    class_rows = [[name, entry["requests"], entry["rendered"], *[entry["queries"].get(a, 0) for a in servers],
                   pct(entry["primary_share"])] for name, entry in mixed["by_class"].items()]
    check_rows = [[member, v["get_reads"], v["post_queries"], v["pg_stat_statements_selects"],
                   mixed["read_queries"][member]["write_checks"], mixed["read_queries"][member]["role"]]
                  for member, v in mixed["cross_check"].items()]
    return ("\nIssue 15's targets:\n\n" + table(["figure", "target", "measured", ""], rows)
            + "\nRead queries by request class, from each response's `Server-Timing` (`db;desc=\"<server>, n "
              "queries\"`, less the routing's snapshot probe; `default` is the primary): `anonymous` are GETs "
              "without the pin cookie, `pinned` a writer's reads while its pin lasts (on the primary by design "
              "until a replica has the write), `post` the comment POSTs (reads and writes).\n\n"
            + table(["class", "requests", "rendered", *servers, "primary share"], class_rows)
            + f"\nSteady state, anonymous GETs answered 200 after the warm-up: {steady['outcomes']} "
              f"(a cold MISS is the first response for its page in the run, left out of the ratio; warm "
              f"misses rendered on {steady['warm_misses_by_server'] or 'no server'}).\n"
            + "\nCross-check per member with pg_stat_statements (its SELECTs on the blog database, probes, "
              "health checks and the write detection's question before each COMMIT on the primary counted "
              "apart): the GETs' read queries should match a standby's SELECTs; on the primary the POSTs' "
              "SELECTs come on top.\n\n"
            + table(["member", "GET read queries (responses)", "POST queries (responses)",
                     "SELECTs (pg_stat_statements)", "write-detection questions", "role"], check_rows))


def stampede_section(stampede):
    rows = [[n + 1, r["requests"], r["renders"], r["x_cache"], r["p50_ms"], r["p99_ms"], r["max_ms"]]
            for n, r in enumerate(stampede["rounds"])]
    return (f"## 3. Stampede: `{stampede['page']}` invalidated under {stampede['clients']} clients\n\n"
            + table(["round", "requests", "renders (server)", "X-Cache", "p50 ms", "p99 ms", "max ms"], rows))


def growth_section(growth):
    if "small" not in growth:
        return ""
    small, large = growth["small"], growth["large"]
    rows = []
    for name, probe in large["pages"].items():
        before = small["pages"].get(name)
        rows.append([name, before["median_ms"] if before else "–", before["queries"] if before else "–",
                     probe["median_ms"], probe["queries"], growth["large_over_small"].get(name, "–")])
    out = [f"## 6. Growth: render time at {small['posts']} and {large['posts']} posts\n",
           table(["page", f"ms @ {small['posts']}", "queries", f"ms @ {large['posts']}", "queries", "ratio"], rows)]
    deep = growth.get("deepest_page")
    if deep:
        out.append(f"\nThe deepest page a list serves (`{deep['path']}`, status {deep['status']}), uncached, at "
                   f"{deep['posts']} posts: **{deep['median_ms']} ms** (p90 {deep['p90_ms']} ms) against page 1's "
                   f"{deep['page_1_ms']} ms: **{deep['over_page_1']} ×** page 1.\n")
    else:
        out.append("\nThe deepest page (500) needs 5,000 published posts: not measured at this size.\n")
    cost = growth.get("invalidation")
    if cost:
        rows = [[size, v["median_ms"], v["max_ms"], v["redis_keys"], pct(v["invalidated_share_of_sample"])]
                for size, v in cost["by_cached_pages"].items()]
        out.append("\nInvalidation (`record_invalidation` of 2 tags every cached page shows):\n")
        out.append(table(["cached pages", "median ms", "max ms", "Redis keys", "sample invalid after"], rows))
    return "\n".join(out)
