"""The chart: the project's throughput as a ratio of each ceiling (bare WSGI
apps sending the same bodies), per worker class: the bar is the median of
the per-repetition ratios, the dots each repetition (the machine's noise),
the dashes the targets.

matplotlib is a bench-only package (bench/requirements.txt): it is imported
when a chart is drawn, so the harness imports without it (the suite's venv
has only requirements.txt)."""

# ratio name -> (label, target or None)
BARS = {
    "hot_vs_bare": ("hit, hot page\n÷ bare ceiling", 0.85),
    "hot_vs_gunicorn": ("hit, hot page\n÷ bare, gunicorn's workers", 0.85),
    "hot_vs_headers": ("hit, hot page\n÷ headers ceiling", 0.90),
    "hot_vs_ceiling": ("hit, hot page\n÷ headers + log", None),
    "zipf_vs_headers": ("hit, Zipf mix\n÷ its headers ceiling", 0.85),
    "access_log": ("hit with log\n÷ hit without", 0.97),
    "stock_vs_bare": ("Django per-site\ncache hit ÷ bare", None),
    "render_without_cache_vs_bare": ("Django render,\nno cache ÷ bare", None),
    "miss_vs_bare": ("project miss\n÷ bare", None),
}
COLOURS = {"sync": "#8da0cb", "gthread": "#fc8d62"}


def draw(peers, meta, target):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = peers["ratios"]
    names = [name for name in BARS if name in ratios]
    classes = list(ratios[names[0]])
    width = 0.8 / len(classes)
    figure, axes = plt.subplots(figsize=(11, 5.4), dpi=110)
    axes.axhline(1.0, color="#444444", linewidth=1)
    axes.annotate("1 = as fast as what it is divided by", (len(names) - 0.5, 1.0),
                  ha="right", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    for index, worker_class in enumerate(classes):
        offset = (index - (len(classes) - 1) / 2) * width
        medians = [ratios[name][worker_class]["median"] or 0 for name in names]
        bars = axes.bar([n + offset for n in range(len(names))], medians, width,
                        label=f"{worker_class} workers (median)", color=COLOURS.get(worker_class))
        for n, name in enumerate(names):
            runs = ratios[name][worker_class]["per_rep"]
            axes.scatter([n + offset] * len(runs), runs, s=9, color="#333333", zorder=3,
                         label="each repetition" if index == 0 and n == 0 else None)
        for bar, value in zip(bars, medians):
            axes.annotate(f"{value:.2f}", (bar.get_x() + bar.get_width() / 2, value), ha="center",
                          va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    for n, name in enumerate(names):
        goal = BARS[name][1]
        if goal:
            axes.hlines(goal, n - 0.45, n + 0.45, colors="#2ca02c", linestyles="--", linewidth=1.5,
                        label="target" if n == 0 else None)
    axes.set_xticks(range(len(names)), [BARS[name][0] for name in names], fontsize=8)
    axes.set_ylabel("throughput ratio")
    axes.set_title(f"Throughput ratios — {meta['command']}, {meta['plan']['reps']} repetitions, "
                   f"{meta['cpu_count']} CPUs, {meta['date'][:10]}, load average "
                   f"{meta['loadavg_start'][0]:.1f} → {(meta.get('loadavg_end') or [0])[0]:.1f}", fontsize=9)
    axes.legend(fontsize=8, loc="upper right")
    tallest = max(max(ratios[name][c]["per_rep"] or [0]) for name in names for c in classes)
    axes.set_ylim(0, min(max(1.25, tallest * 1.08), 3.0))
    figure.tight_layout()
    figure.savefig(target)
    plt.close(figure)
    return target
