"""Medians, ratios and noise of part 1's repeated runs.

A ratio is taken within one repetition and one worker class (the runs were
neighbours in time), then the median over repetitions is kept; every
repetition's ratio is kept too, and the lowest is reported beside the
median, so a bimodal collapse (one repetition far below the others) shows.
"""
import statistics

# The configs of part 1, "server kind-load" (bench/servers.py KINDS), in the
# order one repetition runs them: the pairs a ratio compares sit close, and
# each targeted pair with a ceiling of the same load back to back (the site's
# hit between the `headers` ceiling and the site without its log; its Zipf
# mix right after that mix's `headers` ceiling), so that a burst of load from
# the machine's other tenants falls on both sides of a ratio, not on one.
CONFIGS = ("gunicorn-hot", "bare-hot", "headers-hot", "project-hot", "quiet-hot", "ceiling-hot", "stock-hot",
           "nocache-hot", "bare-zipf", "ceiling-zipf", "headers-zipf", "project-zipf", "project-miss")
# ratio name -> (config measured, config it is divided by)
RATIOS = {
    "hot_vs_bare": ("project-hot", "bare-hot"),
    "hot_vs_gunicorn": ("project-hot", "gunicorn-hot"),
    "bare_vs_gunicorn": ("bare-hot", "gunicorn-hot"),
    "hot_vs_headers": ("project-hot", "headers-hot"),
    "hot_vs_ceiling": ("project-hot", "ceiling-hot"),
    "zipf_vs_bare": ("project-zipf", "bare-zipf"),
    "zipf_vs_headers": ("project-zipf", "headers-zipf"),
    "zipf_vs_ceiling": ("project-zipf", "ceiling-zipf"),
    "access_log": ("project-hot", "quiet-hot"),
    "headers_vs_bare": ("headers-hot", "bare-hot"),
    "ceiling_log_vs_headers": ("ceiling-hot", "headers-hot"),
    "quiet_vs_headers": ("quiet-hot", "headers-hot"),
    "hot_vs_stock": ("project-hot", "stock-hot"),
    "stock_vs_bare": ("stock-hot", "bare-hot"),
    "render_without_cache_vs_bare": ("nocache-hot", "bare-hot"),
    "miss_vs_bare": ("project-miss", "bare-hot"),
}
# Issue #17's targets (the access log's: it costs at most 3 % of a hit).
TARGETS = {"hot_vs_headers": 0.90, "hot_vs_bare": 0.85, "hot_vs_gunicorn": 0.85, "zipf_vs_headers": 0.85,
           "access_log": 0.97,
           "hot_vs_stock": 3.0}
COLLAPSE = 0.75        # no repetition of a targeted ratio may fall below this
P99_TARGET = 1.5       # gthread's hot-page p99 at most this many times sync's
DECISIVE = 0.10        # how far from 1 a gthread / sync ratio must be to decide
FIELDS = ("throughput", "p50_ms", "p99_ms", "bytes_per_response", "render_share", "server_cpu_us",
          "client_cpu_us")


def median_of(runs, field):
    values = [run[field] for run in runs if run.get(field) is not None]
    return round(statistics.median(values), 4) if values else None


def spread(values):
    """(max - min) / median, the relative spread of repeated figures."""
    if len(values) < 2 or not statistics.median(values):
        return 0.0
    return round((max(values) - min(values)) / statistics.median(values), 3)


def paired_ratios(runs, top, bottom, worker_class, field="throughput"):
    pairs = zip(runs[top][worker_class], runs[bottom][worker_class])
    return [a[field] / b[field] for a, b in pairs if a.get(field) is not None and b.get(field)]


def ratio_figures(values):
    return {"median": round(statistics.median(values), 3) if values else None,
            "min": round(min(values), 3) if values else None,
            "spread": spread(values), "per_rep": [round(v, 3) for v in values]}


def peers(runs, plan):
    classes = plan.worker_classes
    configs = [config for config in CONFIGS if config in runs]
    medians = {config: {c: {f: median_of(runs[config][c], f) for f in FIELDS} for c in classes}
               for config in configs}
    for config in configs:
        for c in classes:
            medians[config][c]["throughput_spread"] = spread([r["throughput"] for r in runs[config][c]])
    ratios = {name: {c: ratio_figures(paired_ratios(runs, top, bottom, c)) for c in classes}
              for name, (top, bottom) in RATIOS.items() if top in runs and bottom in runs}
    # The same comparisons by server CPU per request (the divisor's over the
    # measured config's, so that 1 still means "as cheap"): on a shared
    # machine what a request costs moves less than how many fit in a second.
    cpu_ratios = {name: {c: ratio_figures(paired_ratios(runs, bottom, top, c, "server_cpu_us")) for c in classes}
                  for name, (top, bottom) in RATIOS.items() if top in runs and bottom in runs}
    per_bare = {config: {c: ratio_figures(paired_ratios(runs, config, "bare-hot", c))["median"] for c in classes}
                for config in configs} if "bare-hot" in runs else {}
    return {"medians": medians, "ratios": ratios, "cpu_ratios": cpu_ratios, "ratio_to_bare_hot": per_bare,
            "targets": targets_met(ratios, classes),
            "p99_gthread_over_sync": p99_ratio(runs, classes),
            "worker_class": worker_class_choice(runs, medians, classes)}


def targets_met(ratios, classes):
    """Per targeted ratio and class: the median meets the target and no
    repetition collapsed below COLLAPSE."""
    met = {}
    for name, target in TARGETS.items():
        if name not in ratios:
            continue
        met[name] = {"target": target}
        for c in classes:
            figures = ratios[name][c]
            met[name][c] = (figures["median"] is not None and figures["median"] >= target
                            and figures["min"] >= COLLAPSE)
    return met


def p99_ratio(runs, classes):
    """The project's hot-page p99, gthread over sync, paired by repetition;
    beside it (`bare`) the same ratio of the bare ceiling, the server with
    nothing else: what the two worker classes themselves make of the tail."""
    if set(classes) != {"sync", "gthread"} or "project-hot" not in runs:
        return None
    figures = ratio_figures(p99_over_sync(runs, "project-hot"))
    figures.update(target=P99_TARGET, met=figures["median"] is not None and figures["median"] <= P99_TARGET)
    if "bare-hot" in runs:
        figures["bare"] = ratio_figures(p99_over_sync(runs, "bare-hot"))["median"]
    return figures


def p99_over_sync(runs, config):
    pairs = zip(runs[config]["gthread"], runs[config]["sync"])
    return [g["p99_ms"] / s["p99_ms"] for g, s in pairs if s["p99_ms"]]


def worker_class_choice(runs, medians, classes):
    """gthread vs sync on the project's own configs: paired throughput ratios
    and p99, and which class the deploy config should use."""
    if set(classes) != {"sync", "gthread"}:
        return None
    compared = {}
    for config in ("project-hot", "project-zipf", "project-miss", "nocache-hot", "bare-hot"):
        if config not in runs:
            continue
        values = paired_ratios_across_classes(runs, config)
        compared[config] = {
            "gthread_over_sync": round(statistics.median(values), 3) if values else None,
            "p99_ms": {c: medians[config][c]["p99_ms"] for c in classes},
        }
    project = [compared[c]["gthread_over_sync"] for c in ("project-hot", "project-zipf", "project-miss")
               if c in compared]
    geometric = statistics.geometric_mean(project) if project and all(project) else None
    # gthread (the deploy default: keeps clients' connections alive) stays
    # unless sync is clearly faster; within +-10 % the machine's noise decides.
    choice = "sync" if geometric and geometric < 1 - DECISIVE else "gthread"
    return {"compared": compared, "project_geometric_mean_gthread_over_sync":
            round(geometric, 3) if geometric else None, "recommended": choice,
            "decisive": bool(geometric) and abs(geometric - 1) > DECISIVE}


def paired_ratios_across_classes(runs, config):
    pairs = zip(runs[config]["gthread"], runs[config]["sync"])
    return [g["throughput"] / s["throughput"] for g, s in pairs if s["throughput"]]
