"""bench/results/latest.json (every figure), latest.md (the tables) and
throughput.png (the chart), from one run's results."""
import json

from . import chart
from .summary import COLLAPSE


def write(results, folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    if "peers" in results and "ratios" in results["peers"]:
        chart.draw(results["peers"], results["meta"], folder / "throughput.png")
    (folder / "latest.md").write_text(markdown(results))


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pct(value):
    return "–" if value is None else f"{value:.1%}"


def markdown(results):
    meta = results["meta"]
    out = [f"# Benchmark results ({'quick' if meta['plan']['quick'] else 'full'} run)\n",
           f"`{meta['command']}` on {meta['date']}, commit `{meta['commit']}`; {meta['cpu_count']} CPUs; "
           f"load average {meta['loadavg_start']} at the start, {meta.get('loadavg_end')} at the end; "
           f"run took {meta.get('duration_seconds')} s. Versions: "
           + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".\n"]
    for name, section in (("peers", peers_section), ("profile", profile_section), ("mixed", mixed_section),
                          ("stampede", stampede_section),
                          ("faults", faults_section), ("growth", growth_section)):
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
           f"identical on every server: **{peers['wire']['bodies_identical']}**. The three ceilings: "
           "`bare` (the hit's body with Content-Type and Content-Length only, no access log: the server's "
           "physical limit), `headers` (the hit's own headers, no access log), `ceiling` (the same bytes and "
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


def number(value, digits):
    return "–" if value is None else f"{value:.{digits}f}"


def ratio_cell(figures, targeted):
    """median (lowest repetition; every repetition), a collapse of a
    targeted ratio flagged."""
    if figures["median"] is None:
        return "–"
    flag = " ⚠" if targeted and figures["min"] < COLLAPSE else ""
    return f"{figures['median']} (min {figures['min']}{flag}; {', '.join(map(str, figures['per_rep']))})"


def ratios_table(peers, classes):
    rows = []
    for name, ratio in peers["ratios"].items():
        target = peers["targets"].get(name, {})
        verdict = ", ".join(f"{c} {'met' if target[c] else '**missed**'}" for c in classes) if target else ""
        rows.append([name, *[ratio_cell(ratio[c], bool(target)) for c in classes],
                     f"≥ {target['target']}" if target else "", verdict])
    return (f"\nRatios (throughput; median of the per-repetition ratios, the lowest repetition, then each; "
            f"⚠ marks a targeted ratio with a repetition below {COLLAPSE}, which fails the target even when the median meets it):\n\n"
            + table(["ratio", *classes, "target", ""], rows))


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
    return (f"\nHot-page p99 of the project, gthread ÷ sync (paired by repetition): **{figures['median']}** "
            f"(each: {', '.join(map(str, figures['per_rep']))}); target ≤ {figures['target']}: "
            f"{'met' if figures['met'] else '**missed**'}.\n")


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
            ["hit ratio (X-Cache HIT+STALE of 200 reads)", pct(mixed["hit_ratio"])],
            ["hit ratio (server's pc:stats counters)", pct(mixed["server_hit_ratio"])],
            ["replica apply delay / max replay lag seen", f"{mixed['replica_delay']} / {mixed['replay_lag_max_seconds']} s"],
            ["bound B used", f"{c['bound_seconds']} s"]]
    rows += [[f"read queries on {server}", f"{v['reads']} ({pct(v['read_share'])}); LSN probes {v['lsn_probes']}"]
             for server, v in mixed["read_queries"].items()]
    rows += [[f"{rule.replace('_', ' ')} violations", f"**{c[rule]['violations']}** of {c[rule]['checked']} reads checked"]
             for rule in ("read_your_writes", "bounded_staleness", "monotonic_reads")]
    rows += [["acknowledged comments missing afterwards",
              f"{mixed['acknowledged_comments']['missing']} of {mixed['acknowledged_comments']['acknowledged']}"],
             ["read statuses", mixed["read_statuses"]], ["write statuses", mixed["write_statuses"]]]
    examples = [e for rule in ("read_your_writes", "bounded_staleness", "monotonic_reads") for e in c[rule]["examples"]]
    tail = "\nViolations seen (first ones):\n\n```\n" + "\n".join(map(str, examples[:10])) + "\n```\n" if examples else ""
    return "## 2. Mixed workload, replicas lagging\n\n" + table(["figure", "value"], rows) + tail


def stampede_section(stampede):
    rows = [[n + 1, r["requests"], r["renders"], r["x_cache"], r["p50_ms"], r["p99_ms"], r["max_ms"]]
            for n, r in enumerate(stampede["rounds"])]
    return (f"## 3. Stampede: `{stampede['page']}` invalidated under {stampede['clients']} clients\n\n"
            + table(["round", "requests", "renders (server)", "X-Cache", "p50 ms", "p99 ms", "max ms"], rows))


def faults_section(faults):
    rows = [[name, v["requests"], v["failed_reads"], v["writes"], v["read_only_503_with_message"], v["failed_writes"]]
            for name, v in faults["phases"].items()]
    ack = faults["acknowledged_comments"]
    return ("## 4. Faults under load\n\n"
            + table(["phase", "requests", "failed reads", "comment POSTs by status", "503 read-only", "failed writes"], rows)
            + "\n" + table(["recovery", "seconds"], list(faults["recovery"].items()))
            + f"\nAcknowledged comments missing afterwards: **{ack['missing']}** of {ack['acknowledged']}. "
            f"Read-your-writes violations **{faults['read_your_writes_violations']}**, monotonic-read violations "
            f"**{faults['monotonic_read_violations']}** (replicas not delayed in this part).\n"
            + ("\nViolations seen (each with the write's response setting the pin, `write_pin_change`):\n\n```\n"
               + "\n".join(map(str, faults["consistency_examples"])) + "\n```\n"
               if faults["consistency_examples"] else ""))


def growth_section(growth):
    if "small" not in growth:
        return ""
    small, large = growth["small"], growth["large"]
    rows = []
    for name, probe in large["pages"].items():
        before = small["pages"].get(name)
        rows.append([name, before["median_ms"] if before else "–", before["queries"] if before else "–",
                     probe["median_ms"], probe["queries"], growth["large_over_small"].get(name, "–")])
    out = [f"## 5. Growth: render time at {small['posts']} and {large['posts']} posts\n",
           table(["page", f"ms @ {small['posts']}", "queries", f"ms @ {large['posts']}", "queries", "ratio"], rows),
           f"\nPage 1,000 ÷ page 1 at {large['posts']} posts: **{growth['page_1000_over_page_1_at_large']}** "
           "(target ≤ 2; none when fewer than 10,000 posts are published).\n"]
    cost = growth.get("invalidation")
    if cost:
        rows = [[size, v["median_ms"], v["max_ms"], v["redis_keys"], pct(v["invalidated_share_of_sample"])]
                for size, v in cost["by_cached_pages"].items()]
        out.append("\nInvalidation (`record_invalidation` of 2 tags every cached page shows):\n")
        out.append(table(["cached pages", "median ms", "max ms", "Redis keys", "sample invalid after"], rows))
    return "\n".join(out)
