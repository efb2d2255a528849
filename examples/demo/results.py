"""Tables and plots of docs/results.md from the demo's --json output (python stdlib only).

Usage: python3 examples/demo/results.py [--by-k | --by-precision] OUT_PREFIX RUN.jsonl...
(OUT_PREFIX - : tables only; --by-k: one row per strategy and --k, the JSON "k", sorted by k;
--by-precision: one row per strategy and --precision, fp32 first, with the per-seed figures)
Prints one markdown table per data set: mean and standard deviation over the runs (seeds) of
Recall@10 and NDCG@10 (test, at the best validation epoch), epochs, seconds and examples/s;
and writes OUT_PREFIX-<data>.svg: validation NDCG@10 over epochs per strategy (the mean over
the seeds, up to the shortest run), and test Recall@10 against seconds (mean, with one standard
deviation as bars)."""
import json
import math
import re
import sys
from collections import OrderedDict

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"]


def mean_std(xs):
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, s


def load(paths, by_k=False):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    if by_k:  # stable: the strategies in order of appearance, each by k
        first = {}
        for r in rows:
            first.setdefault(r["strategy"], len(first))
        rows.sort(key=lambda r: (first[r["strategy"]], r["k"]))
    data = OrderedDict()  # dataset -> strategy (, k) -> [runs]
    for r in rows:
        name = f"{r['strategy']}, k = {r['k']}" if by_k else r["strategy"]
        data.setdefault(r["dataset"], OrderedDict()).setdefault(name, []).append(r)
    return data


def table(name, strategies):
    n = max(len(runs) for runs in strategies.values())
    print(f"**{name}** ({n} seeds, unless a row says otherwise; mean ± std)\n")
    print("| strategy | Recall@10 | NDCG@10 | epochs (best) | seconds | examples/s |")
    print("|---|---|---|---|---|---|")
    for s, runs in strategies.items():
        cells = []
        for k, fmt in [("recall@10", "{:.4f} ± {:.4f}"), ("ndcg@10", "{:.4f} ± {:.4f}"),
                       ("best_epoch", "{:.1f} ± {:.1f}"), ("seconds", "{:.1f} ± {:.1f}"),
                       ("examples_per_s", "{:.0f} ± {:.0f}")]:
            cells.append(fmt.format(*mean_std([r[k] for r in runs])))
        seeds = f" ({len(runs)} seed{'s' if len(runs) > 1 else ''})" if len(runs) != n else ""
        print(f"| {s}{seeds} | " + " | ".join(cells) + " |")
    r0 = next(iter(strategies.values()))[0]
    print(f"| (random ranking) | {r0['random_recall@10']:.4f} | {r0['random_ndcg@10']:.4f} | | | |")
    print()


class Panel:
    """One plot area in an SVG document: maps data coordinates to pixels."""

    def __init__(self, x0, y0, w, h, xr, yr):
        self.x0, self.y0, self.w, self.h, self.xr, self.yr = x0, y0, w, h, xr, yr

    def px(self, x, y):
        fx = (x - self.xr[0]) / (self.xr[1] - self.xr[0] or 1)
        fy = (y - self.yr[0]) / (self.yr[1] - self.yr[0] or 1)
        return self.x0 + fx * self.w, self.y0 + self.h - fy * self.h

    def axes(self, out, xlabel, ylabel, title):
        x0, y0, w, h = self.x0, self.y0, self.w, self.h
        out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#333"/>')
        for k in range(6):
            xv = self.xr[0] + (self.xr[1] - self.xr[0]) * k / 5
            yv = self.yr[0] + (self.yr[1] - self.yr[0]) * k / 5
            px, _ = self.px(xv, self.yr[0])
            _, py = self.px(self.xr[0], yv)
            out.append(f'<line x1="{px:.1f}" y1="{y0 + h}" x2="{px:.1f}" y2="{y0 + h + 4}" stroke="#333"/>')
            out.append(f'<text x="{px:.1f}" y="{y0 + h + 16}" text-anchor="middle">{xv:.3g}</text>')
            out.append(f'<line x1="{x0 - 4}" y1="{py:.1f}" x2="{x0}" y2="{py:.1f}" stroke="#333"/>')
            out.append(f'<line x1="{x0}" y1="{py:.1f}" x2="{x0 + w}" y2="{py:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{x0 - 7}" y="{py + 4:.1f}" text-anchor="end">{yv:.3f}</text>')
        out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle">{xlabel}</text>')
        out.append(f'<text x="{x0 - 48}" y="{y0 + h / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 {x0 - 48} {y0 + h / 2})">{ylabel}</text>')
        out.append(f'<text x="{x0 + w / 2}" y="{y0 - 8}" text-anchor="middle" '
                   f'font-weight="bold">{title}</text>')


def plot(path, name, strategies):
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="980" height="400" '
           'font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>']
    curves = {}
    for s, runs in strategies.items():
        n = min(len(r["history"]) for r in runs)
        curves[s] = [(runs[0]["history"][e]["epoch"],
                      sum(r["history"][e]["valid_ndcg@10"] for r in runs) / len(runs))
                     for e in range(n)]
    xs = [x for c in curves.values() for x, _ in c]
    ys = [y for c in curves.values() for _, y in c]
    left = Panel(70, 40, 360, 300, (0, 5 * math.ceil(max(xs) / 5)), (0, max(ys) * 1.05))
    left.axes(out, "epoch", "validation NDCG@10", f"{name}: validation NDCG@10 (mean of seeds)")
    for k, (s, c) in enumerate(curves.items()):
        pts = " ".join("{:.1f},{:.1f}".format(*left.px(x, y)) for x, y in c)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[k % len(COLORS)]}" stroke-width="1.5"/>')
    pts = {s: (mean_std([r["seconds"] for r in runs]), mean_std([r["recall@10"] for r in runs]))
           for s, runs in strategies.items()}
    xs = [m + e for (m, e), _ in pts.values()] + [max(0, m - e) for (m, e), _ in pts.values()]
    ys = [m + e for _, (m, e) in pts.values()] + [m - e for _, (m, e) in pts.values()]
    right = Panel(540, 40, 300, 300, (0, max(xs) * 1.05), (0, max(ys) * 1.05))
    right.axes(out, "seconds (training + validation)", "test Recall@10",
               f"{name}: Recall@10 against time")
    for k, (s, ((sx, ex), (sy, ey))) in enumerate(pts.items()):
        c = COLORS[k % len(COLORS)]
        x, y = right.px(sx, sy)
        xa, _ = right.px(max(0, sx - ex), sy)
        xb, _ = right.px(sx + ex, sy)
        _, ya = right.px(sx, sy - ey)
        _, yb = right.px(sx, sy + ey)
        out.append(f'<line x1="{xa:.1f}" y1="{y:.1f}" x2="{xb:.1f}" y2="{y:.1f}" stroke="{c}"/>')
        out.append(f'<line x1="{x:.1f}" y1="{ya:.1f}" x2="{x:.1f}" y2="{yb:.1f}" stroke="{c}"/>')
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{c}"/>')
    for k, s in enumerate(strategies):
        y = 50 + 18 * k
        out.append(f'<line x1="860" y1="{y}" x2="880" y2="{y}" stroke="{COLORS[k % len(COLORS)]}" stroke-width="3"/>')
        out.append(f'<text x="885" y="{y + 4}">{s}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def precision_table(paths):
    """strategy x precision: mean ± std over seeds and each seed's Recall@10 and best epoch."""
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    first, groups = {}, OrderedDict()
    for r in rows:
        first.setdefault(r["strategy"], len(first))
    rows.sort(key=lambda r: (r["dataset"], first[r["strategy"]], r["precision"] != "fp32",
                             r["seed"]))
    for r in rows:
        groups.setdefault(r["dataset"], OrderedDict()).setdefault(
            (r["strategy"], r["precision"]), []).append(r)
    for name, g in groups.items():
        print(f"**{name}** (mean ± std over the seeds)\n")
        print("| strategy | precision | Recall@10 | NDCG@10 | Recall@10 per seed | "
              "best epoch per seed | seconds |")
        print("|---|---|---|---|---|---|---|")
        for (s, prec), runs in g.items():
            rec = "{:.4f} ± {:.4f}".format(*mean_std([r["recall@10"] for r in runs]))
            ndcg = "{:.4f} ± {:.4f}".format(*mean_std([r["ndcg@10"] for r in runs]))
            per = ", ".join(f"{r['recall@10']:.4f}" for r in runs)
            ep = ", ".join(str(r["best_epoch"]) for r in runs)
            sec = "{:.1f} ± {:.1f}".format(*mean_std([r["seconds"] for r in runs]))
            print(f"| {s} | {prec} | {rec} | {ndcg} | {per} (seeds "
                  f"{', '.join(str(r['seed']) for r in runs)}) | {ep} | {sec} |")
        print()


def main():
    args = sys.argv[1:]
    if args[:1] == ["--by-precision"]:
        return precision_table(args[2:])
    by_k = args[:1] == ["--by-k"]
    args = args[1:] if by_k else args
    if len(args) < 2:
        sys.exit(__doc__)
    data = load(args[1:], by_k)
    for name, strategies in data.items():
        table(name, strategies)
        if args[0] == "-":
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        plot(f"{args[0]}-{slug}.svg", name, strategies)
        print(f"(plot: {args[0]}-{slug}.svg)\n")


if __name__ == "__main__":
    main()
