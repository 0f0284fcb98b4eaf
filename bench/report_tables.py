"""Markdown tables and the small formats every section of the report uses."""


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pct(value):
    return "–" if value is None else f"{value:.1%}"


def number(value, digits):
    return "–" if value is None else f"{value:.{digits}f}"


def verdict(target):
    return "met" if target["met"] else "**missed**"
