#!/usr/bin/python3
"""Draws a migration's probe timeline as PNG: every probe's arrival (sequence
number over arrival time) and the arrival rate, the migration's phase
changes as vertical lines, the lost probes' send times shaded.

    plot.py RESULTS.json OUT.png [--stream SRC->DST] [--test NAME]
            [--before MS] [--after MS]

RESULTS.json is what tests.py writes to $TETHER_MN_OUT/NAME.json or what
demo.py writes (--results).  Time 0 is the stream's first pause."""
import argparse
import json
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('results')
    ap.add_argument('out')
    ap.add_argument('--stream', help='SRC->DST (default: first with a pause)')
    ap.add_argument('--test')
    ap.add_argument('--before', type=float, default=300)
    ap.add_argument('--after', type=float, default=500)
    a = ap.parse_args()
    with open(a.results) as f:
        res = json.load(f)
    recs = [r for r in res['migrations']
            if not a.test or r.get('test') == a.test]
    if a.stream:
        src, dst = a.stream.split('->')
        recs = [r for r in recs if r['src'] == src and r['dst'] == dst]
    # the stream towards a migrating VM shows the most
    recs.sort(key=lambda r: -r['lost'] - r['dup'])
    rec = next((r for r in recs if any(
        x.startswith('pause ' + r['dst']) or x.startswith('pause ' + r['src'])
        for _, x in r['events'])), recs[0] if recs else None)
    if rec is None:
        sys.exit('no stream in %s' % a.results)
    ev = rec['events']
    vm_ev = [(t, x) for t, x in ev if rec['dst'] in x.split() or
             rec['src'] in x.split()] or ev
    t0 = next((t for t, x in vm_ev if x.startswith('pause')), vm_ev[0][0])
    ms = lambda t: (t - t0) / 1e6
    arr = rec['arrivals']
    lo, hi = -a.before, a.after
    xs = [ms(r) for _, _, r in arr]
    ys = [s for s, _, _ in arr]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                  gridspec_kw={'height_ratios': [3, 1]})
    sel = [(x, y) for x, y in zip(xs, ys) if lo <= x <= hi]
    ax.scatter([x for x, _ in sel], [y for _, y in sel], s=3, c='tab:blue',
               label='probe arrival (seq over arrival time)')
    sent = [(ms(sn), s) for s, sn, _ in arr if lo <= ms(sn) <= hi]
    ax.plot([x for x, _ in sent], [y for _, y in sent], lw=0.6,
            c='tab:gray', alpha=0.6, label='send time')
    period = rec['period_ns'] / 1e6
    by_seq = {s: sn for s, sn, _ in arr}
    shaded = False
    for first, count in rec['gaps']:
        prev = by_seq.get(first - 1)
        if prev is None:
            continue
        x0, x1 = ms(prev) + period, ms(prev) + (count + 1) * period
        for axis in (ax, ax2):
            axis.axvspan(x0, x1, color='tab:red', alpha=0.3,
                         label=None if shaded or axis is ax2 else
                         'lost (%d probes)' % rec['lost'])
        shaded = True
    colors = {'plug': 'tab:purple', 'pause': 'tab:orange',
              'paused': 'tab:brown', 'resume': 'tab:green',
              'complete': 'black', 'rollback': 'tab:red'}
    for t, x in vm_ev:
        if lo <= ms(t) <= hi:
            c = colors.get(x.split()[0], 'tab:olive')
            for axis in (ax, ax2):
                axis.axvline(ms(t), color=c, ls='--', lw=1)
            ax.annotate(x, (ms(t), 1.0), xycoords=('data', 'axes fraction'),
                        rotation=90, va='top', ha='right', fontsize=8, color=c)
    # arrivals per 5 ms
    bins = {}
    for x in xs:
        if lo <= x <= hi:
            bins[int((x - lo) // 5)] = bins.get(int((x - lo) // 5), 0) + 1
    bx = [lo + 5 * k for k in range(int((hi - lo) // 5) + 1)]
    ax2.bar(bx, [bins.get(k, 0) / 5.0 for k in range(len(bx))], width=5,
            align='edge', color='tab:blue')
    ax2.set_ylabel('arrivals / ms')
    ax2.set_xlabel('ms since the source paused')
    ax.set_ylabel('sequence number')
    ax.set_title('%s%s -> %s: %d sent at %.0f Hz, %d lost (longest gap %.0f '
                 'ms), %d duplicates' % (
                     (rec.get('test') + ': ') if rec.get('test') else '',
                     rec['src'], rec['dst'], rec['sent'], 1000 / period,
                     rec['lost'], rec['window_ms'], rec['dup']))
    ax.legend(loc='lower right', fontsize=8)
    ax.set_xlim(lo, hi)
    if sel:
        ax.set_ylim(min(y for _, y in sel) - 10, max(y for _, y in sel) + 10)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(a.out)


if __name__ == '__main__':
    main()
