"""The chart: each config's median throughput as a ratio of the bare-WSGI
ceiling on the hot page, per worker class, with the cache's targets."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "ceiling-hot": "ceiling\n(hot page)", "project-hot": "project hit\n(hot page)",
    "stock-hot": "Django per-site\ncache (hot)", "nocache-hot": "Django render,\nno cache",
    "ceiling-zipf": "ceiling\n(Zipf mix)", "project-zipf": "project hit\n(Zipf mix)",
    "project-miss": "project miss\n(replica render)",
}
COLOURS = {"sync": "#8da0cb", "gthread": "#fc8d62"}


def draw(peers, meta, target):
    ratios = peers["ratio_to_hot_ceiling"]
    configs = [c for c in LABELS if c in ratios]
    classes = list(next(iter(ratios.values())))
    width = 0.8 / len(classes)
    figure, axes = plt.subplots(figsize=(11, 5.2), dpi=110)
    for index, worker_class in enumerate(classes):
        xs = [n + (index - (len(classes) - 1) / 2) * width for n in range(len(configs))]
        values = [ratios[c][worker_class] for c in configs]
        bars = axes.bar(xs, values, width, label=f"{worker_class} workers", color=COLOURS.get(worker_class))
        for bar, value in zip(bars, values):
            axes.annotate(f"{value:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    axes.axhline(0.90, color="#2ca02c", linestyle="--", linewidth=1, label="target: hot hit ≥ 0.90")
    axes.axhline(0.75, color="#9467bd", linestyle=":", linewidth=1, label="target: Zipf hit ≥ 0.75 (of its ceiling)")
    axes.set_xticks(range(len(configs)), [LABELS[c] for c in configs], fontsize=8)
    axes.set_ylabel("throughput ÷ bare-WSGI ceiling (hot page)")
    axes.set_title(f"Throughput per config, median of {meta['plan']['reps']} runs — "
                   f"{meta['cpu_count']} CPUs, {meta['date'][:10]}, load avg {meta['loadavg_start'][0]:.1f}",
                   fontsize=10)
    axes.legend(fontsize=8, loc="upper right")
    axes.set_ylim(0, max(1.15, max(max(r.values()) for r in ratios.values()) * 1.1))
    figure.tight_layout()
    figure.savefig(target)
    plt.close(figure)
    return target
