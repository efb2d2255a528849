#!/usr/bin/env python3
"""SVG plots of the negs_freq accuracy simulations (python stdlib only).

usage: plot_freq.py CSV_DIR IMG_DIR   (CSV_DIR holds what `bench_freq paper|zipf DIR` wrote)
"""
import csv
import math
import os
import sys

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_ticks(lo, hi, n=5):
    span = hi - lo if hi > lo else 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    t = math.ceil(lo / step) * step
    out = []
    while t <= hi + 1e-12:
        out.append(round(t, 10))
        t += step
    return out


def svg_plot(path, title, xlabel, ylabel, series, vline=None, ymax=None, w=800, h=400):
    """series: list of (label, xs, ys, color, dashed)."""
    ml, mr, mt, mb = 70, 250, 40, 50
    xs = [x for s in series for x in s[1]]
    ys = [y for s in series for y in s[2] if not math.isnan(y)]
    x0, x1 = min(xs), max(xs)
    y0, y1 = 0.0, (ymax if ymax is not None else max(ys) * 1.05)
    pw, ph = w - ml - mr, h - mt - mb

    def px(x):
        return ml + (x - x0) / (x1 - x0) * pw

    def py(y):
        return mt + ph - (min(y, y1) - y0) / (y1 - y0) * ph

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{w}" height="{h}" fill="white"/>',
         f'<text x="{ml + pw / 2}" y="22" text-anchor="middle" font-size="14">{esc(title)}</text>',
         f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    for t in nice_ticks(x0, x1):
        o.append(f'<line x1="{px(t):.1f}" y1="{mt + ph}" x2="{px(t):.1f}" y2="{mt + ph + 5}" stroke="#444"/>')
        o.append(f'<text x="{px(t):.1f}" y="{mt + ph + 18}" text-anchor="middle">{t:g}</text>')
    for t in nice_ticks(y0, y1):
        o.append(f'<line x1="{ml}" y1="{py(t):.1f}" x2="{ml + pw}" y2="{py(t):.1f}" stroke="#eee"/>')
        o.append(f'<text x="{ml - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    if vline is not None:
        o.append(f'<line x1="{px(vline):.1f}" y1="{mt}" x2="{px(vline):.1f}" y2="{mt + ph}" '
                 f'stroke="#888" stroke-dasharray="4,3"/>')
    o.append(f'<text x="{ml + pw / 2}" y="{h - 10}" text-anchor="middle">{esc(xlabel)}</text>')
    o.append(f'<text x="16" y="{mt + ph / 2}" text-anchor="middle" '
             f'transform="rotate(-90 16 {mt + ph / 2})">{esc(ylabel)}</text>')
    for i, (label, sx, sy, color, dashed) in enumerate(series):
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(sx, sy) if not math.isnan(y))
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        o.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.4"{dash}/>')
        ly = mt + 14 + 18 * i
        o.append(f'<line x1="{ml + pw + 12}" y1="{ly - 4}" x2="{ml + pw + 36}" y2="{ly - 4}" '
                 f'stroke="{color}" stroke-width="2"{dash}/>')
        o.append(f'<text x="{ml + pw + 42}" y="{ly}">{esc(label)}</text>')
    o.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(o) + "\n")


def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    rows = read(os.path.join(src, "freq_paper_error.csv"))
    names = []
    for r in rows:
        if r["estimator"] not in names:
            names.append(r["estimator"])
    show = [n for n in names if n.startswith(("GAP m=1", "as published", "GAP m=2", "SKETCH 2x5000 h=250",
                                              "SKETCH 2x5000 h=500"))]
    series = []
    for i, n in enumerate(show):
        pts = [(int(r["step"]), float(r["error"])) for r in rows if r["estimator"] == n]
        series.append((n, [p[0] for p in pts], [p[1] for p in pts], COLORS[i % len(COLORS)], False))
    svg_plot(os.path.join(dst, "freq_paper_error.svg"),
             "Yi et al. simulation: error over steps (distribution reversed at step 10,000)",
             "step", "(1/2B) sum |P^ - P|", series, vline=10000, ymax=0.6)

    rows = read(os.path.join(src, "freq_paper_items.csv"))
    items, ests = [], []
    for r in rows:
        if r["item"] not in items:
            items.append(r["item"])
        if r["estimator"] not in ests:
            ests.append(r["estimator"])
    for item in items:
        truth = [(int(r["step"]), float(r["truth"])) for r in rows
                 if r["item"] == item and r["estimator"] == ests[0]]
        series = [("truth", [p[0] for p in truth], [p[1] for p in truth], "#000", False)]
        for e, est in enumerate(ests):
            pts = [(int(r["step"]), float(r["estimate"])) for r in rows
                   if r["item"] == item and r["estimator"] == est]
            series.append((est, [p[0] for p in pts], [p[1] for p in pts],
                           ["#1f77b4", "#999999", "#ff7f0e"][e % 3], e == 1))
        svg_plot(os.path.join(dst, f"freq_switch_item{item}.svg"),
                 f"Item {item} around the switch: P(in a batch of 128), truth vs estimates",
                 "step", "P(in batch)", series, vline=10000, ymax=1.0)

    rows = read(os.path.join(src, "freq_zipf_error.csv"))
    names = []
    for r in rows:
        if r["estimator"] not in names:
            names.append(r["estimator"])
    series = []
    for i, n in enumerate(names):
        pts = [(int(r["step"]), float(r["error_top"])) for r in rows if r["estimator"] == n]
        series.append((n, [p[0] for p in pts], [p[1] for p in pts], COLORS[i % len(COLORS)], False))
    svg_plot(os.path.join(dst, "freq_zipf_error.svg"),
             "Zipf(1.1) over 10^6 ids, 1 MiB each: error on the top 1,000 ids (drift at 10,000)",
             "step", "relative L1 on the top 1,000", series, vline=10000, ymax=0.5)


if __name__ == "__main__":
    main()
