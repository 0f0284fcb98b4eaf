"""Medians, ratios and noise of part 1's repeated runs.

A ratio is taken within one repetition and one worker class (the runs were
neighbours in time), then the median over repetitions is kept; the spread
of those per-repetition ratios says how noisy the machine was.
"""
import statistics

# ratio name -> (config measured, config it is divided by)
RATIOS = {
    "hot_vs_ceiling": ("project-hot", "ceiling-hot"),
    "zipf_vs_ceiling": ("project-zipf", "ceiling-zipf"),
    "hot_vs_stock": ("project-hot", "stock-hot"),
    "stock_vs_ceiling": ("stock-hot", "ceiling-hot"),
    "render_without_cache_vs_ceiling": ("nocache-hot", "ceiling-hot"),
    "miss_vs_ceiling": ("project-miss", "ceiling-hot"),
    "zipf_ceiling_vs_hot_ceiling": ("ceiling-zipf", "ceiling-hot"),
}
TARGETS = {"hot_vs_ceiling": 0.90, "zipf_vs_ceiling": 0.75, "hot_vs_stock": 3.0}
CONFIGS = ("ceiling-hot", "project-hot", "stock-hot", "nocache-hot", "ceiling-zipf", "project-zipf", "project-miss")
DECISIVE = 0.10  # how far from 1 a gthread / sync ratio must be to decide
FIELDS = ("throughput", "p50_ms", "p99_ms", "bytes_per_response", "render_share")


def median_of(runs, field):
    values = [run[field] for run in runs if run.get(field) is not None]
    return round(statistics.median(values), 4) if values else None


def spread(values):
    """(max - min) / median, the relative spread of repeated figures."""
    if len(values) < 2 or not statistics.median(values):
        return 0.0
    return round((max(values) - min(values)) / statistics.median(values), 3)


def paired_ratios(runs, top, bottom, worker_class):
    pairs = zip(runs[top][worker_class], runs[bottom][worker_class])
    return [a["throughput"] / b["throughput"] for a, b in pairs if b["throughput"]]


def peers(runs, plan):
    classes = plan.worker_classes
    medians = {config: {c: {f: median_of(runs[config][c], f) for f in FIELDS} for c in classes}
               for config in runs}
    for config in runs:
        for c in classes:
            medians[config][c]["throughput_spread"] = spread([r["throughput"] for r in runs[config][c]])
    ratios = {}
    for name, (top, bottom) in RATIOS.items():
        ratios[name] = {}
        for c in classes:
            values = paired_ratios(runs, top, bottom, c)
            ratios[name][c] = {"median": round(statistics.median(values), 3) if values else None,
                               "spread": spread(values), "per_rep": [round(v, 3) for v in values]}
    per_ceiling = {config: {c: round(statistics.median(paired_ratios(runs, config, "ceiling-hot", c)), 3)
                            for c in classes} for config in runs}
    return {"medians": medians, "ratios": ratios, "ratio_to_hot_ceiling": per_ceiling,
            "targets": {name: {"target": target,
                               **{c: ratios[name][c]["median"] is not None
                                  and ratios[name][c]["median"] >= target for c in classes}}
                        for name, target in TARGETS.items()},
            "worker_class": worker_class_choice(runs, medians, classes)}


def worker_class_choice(runs, medians, classes):
    """gthread vs sync on the project's own configs: paired throughput ratios
    and p99, and which class the deploy config should use."""
    if set(classes) != {"sync", "gthread"}:
        return None
    compared = {}
    for config in ("project-hot", "project-zipf", "project-miss", "nocache-hot", "ceiling-hot"):
        pairs = zip(runs[config]["gthread"], runs[config]["sync"])
        values = [g["throughput"] / s["throughput"] for g, s in pairs if s["throughput"]]
        compared[config] = {
            "gthread_over_sync": round(statistics.median(values), 3) if values else None,
            "p99_ms": {c: medians[config][c]["p99_ms"] for c in classes},
        }
    project = [compared[c]["gthread_over_sync"] for c in ("project-hot", "project-zipf", "project-miss")]
    geometric = statistics.geometric_mean([v for v in project if v]) if all(project) else None
    # gthread (the deploy default: keeps clients' connections alive) stays
    # unless sync is clearly faster; within +-10 % the machine's noise decides.
    choice = "sync" if geometric and geometric < 1 - DECISIVE else "gthread"
    return {"compared": compared, "project_geometric_mean_gthread_over_sync":
            round(geometric, 3) if geometric else None, "recommended": choice,
            "decisive": bool(geometric) and abs(geometric - 1) > DECISIVE}
