#!/usr/bin/python3
"""bench/qemu: loss and duplicates of real QEMU (TCG) live migrations under
1 kHz UDP probes (echoed by the guest, so a probe counts as lost if either
direction lost it; "_around_stun": only those sent from 25 ms before the
source's STOP to 25 ms after the destination's RESUME), with tether and
over a plain OVS NORMAL learning switch,
beside the stun (source STOP to destination RESUME, from QMP events).
Prints "name: value unit" lines (median, and worst as name_worst).  Runs
inside tests/mininet/run.sh:  run.sh bench.py [MIGRATIONS]  (default 10 per
mode).  A migration after which the guest kernel crashed (the known TCG
crash) is rerun, not counted."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemunet import GuestCrashed, log, teardown                          # noqa
from qtests import setup, migrate_measured                               # noqa


def run_mode(tether, n, pause_before_switchover=False):
    out = []
    crashes = 0
    dc = None
    while len(out) < n and crashes < n:
        if dc is None:
            dc, peer, g = setup(tether=tether)
        dst = 'hv3' if g.hv == 'hv2' else 'hv2'
        try:
            r = migrate_measured(dc, peer, g, dst, pause_before_switchover=
                                 pause_before_switchover)
            out.append(r)
        except GuestCrashed as e:
            crashes += 1
            log('%s: not counted, new guest' % e)
            teardown(dc)
            dc = None
    if dc is not None:
        teardown(dc)
    return out, crashes


def report(name, vals, unit, total=False):
    if not vals:
        print('%s: n/a' % name)
        return
    print('%s: %g %s' % (name, statistics.median(vals), unit))
    print('%s_worst: %g %s' % (name, max(vals), unit))
    if total:
        print('%s_total: %g %s (%d migrations)' % (name, sum(vals), unit,
                                                   len(vals)))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    res = {}
    modes = os.environ.get('QEMU_BENCH_MODES', 'tether tether_hold bridge')
    for mode, tether, pbs in (('tether', True, False),
                              ('tether_hold', True, True),
                              ('bridge', False, False)):
        res.setdefault(mode, [])
        if mode not in modes.split():
            continue
        t0 = time.monotonic()
        res[mode], crashes = run_mode(tether, n, pbs)
        log('%s: %d migrations in %.0f s, %d guest crashes rerun' % (
            mode, len(res[mode]), time.monotonic() - t0, crashes))
    report('qemu_loss_ms_tether', [r['lost'] for r in res['tether']], 'ms')
    report('qemu_loss_ms_tether_around_stun',
           [r['stun_lost'] for r in res['tether']
            if r.get('stun_lost') is not None], 'ms')
    report('qemu_dup_tether', [r['dup'] for r in res['tether']], 'packets',
           True)
    report('qemu_loss_ms_tether_pause_before_switchover',
           [r['lost'] for r in res['tether_hold']], 'ms')
    report('qemu_dup_tether_pause_before_switchover',
           [r['dup'] for r in res['tether_hold']], 'packets', True)
    report('qemu_loss_ms_bridge', [r['lost'] for r in res['bridge']], 'ms')
    report('qemu_loss_ms_bridge_around_stun',
           [r['stun_lost'] for r in res['bridge']
            if r.get('stun_lost') is not None], 'ms')
    report('qemu_dup_bridge', [r['dup'] for r in res['bridge']], 'packets')
    report('qemu_stun_ms', [r['stun_ms'] for m in res.values() for r in m
                            if 'stun_ms' in r], 'ms')
    report('qemu_stun_ms_pause_before_switchover',
           [r['stun_ms'] for r in res['tether_hold'] if 'stun_ms' in r], 'ms')
    return 0


if __name__ == '__main__':
    sys.exit(main())
