#!/usr/bin/python3
"""tether's real-hypervisor tests with libvirt: QEMU guests that libvirt
daemons start and live-migrate (virsh), between hypervisors with their own
OVS, libvirtd and tether-agent; the agent learns the migration phases from
libvirt's domain events (--libvirt-events).  Same CLI as qtests.py: run one
inside tests/mininet/run.sh:  run.sh .../tests/qemu/lvtests.py NAME ('list'
lists them).  Exits 0 (pass), 1 (fail) or 77 (libvirt cannot run here); a
run whose guest kernel crashed after a migration (the known TCG crash) is
rerun, up to TETHER_QEMU_TRIES (5) times."""
import os
import re
import signal as sig_
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lvnet import (LvDataCenter, agent_log, tetherd_log, available,  # noqa
                   GuestCrashed, Error, log, wait_until)
from qemunet import teardown, echo_ok, diagnose_unreachable        # noqa
# The loss bounds of the QEMU tier (README.md): around the stun (QEMU's
# STOP - 25 ms .. RESUME + 25 ms, here as libvirt relays QEMU's events),
# and in all.
from qtests import (stun_loss, STUN_MAX_LOSS, MAX_LOSS,              # noqa
                    host_drops, log_host_drops)

GUEST_IP, GUEST_MAC = '10.0.0.100', '02:00:00:00:01:00'
PEER_IP, PEER_MAC = '10.0.0.11', '02:00:00:00:00:11'


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def setup():
    dc = LvDataCenter().start()
    peer = dc.add_peer('peer', 'hv1', PEER_IP, PEER_MAC)
    g = dc.add_guest('g', 'hv2', GUEST_IP, GUEST_MAC)
    wait_until(lambda: echo_ok(dc, peer, g, 5) >= 3, 20, 'guest to echo')
    return dc, peer, g


def migrate_measured(dc, peer, g, dst, **kw):
    drops = host_drops(dc)
    pr = dc.probe(peer, g)
    time.sleep(0.5)
    try:
        r = dc.migrate(g, dst, **kw)
    finally:
        time.sleep(1.0)
        s = dc.probe_stop(pr)
        log_host_drops(dc, drops)
    if g.crashed_since(r['console_at']):
        raise GuestCrashed('guest kernel crashed after migration to %s'
                           % dst)
    r['lost'], r['dup'], r['sent'] = s.lost, s.dup, s.sent
    r['stun_lost'] = stun_loss(s, r)
    for t0, t1, c in s.gap_times():
        ref = r.get('t_stop', r['t_start'])
        log('  %d lost, sent %+.1f .. %+.1f ms from %s' % (
            c, (t0 - ref) / 1e6, (t1 - ref) / 1e6,
            'STOP' if 't_stop' in r else 'virsh migrate'))
    log('%s -> %s: %s; sent %d lost %d (around the stun %s, longest gap '
        '%.0f ms) dup %d; stun %s ms, libvirt downtime %s ms, total %s ms'
        % (r['src'], r['dst'], r['outcome'], s.sent, s.lost,
           r['stun_lost'], s.max_window_ms, s.dup,
           '%.1f' % r['stun_ms'] if 'stun_ms' in r else '-',
           r.get('downtime_ms'), r.get('total_ms')))
    return r


def engine_events(dc, eni):
    """tetherd's binding events for 'eni', in order."""
    return re.findall(r'eni %s: (\w+):' % re.escape(eni), tetherd_log(dc))


def check_migration(dc, peer, g, r, before):
    """The criteria of a completed migration 'r' of guest 'g', probed from
    'peer', whose tetherd events began at index 'before'.  Probes lost
    beyond the bounds: diagnose_unreachable() tells a hung guest (rerun)
    from a network fault."""
    dst = r['dst']
    check(r['outcome'] == 'completed', 'migration ' + r['outcome'])
    check(r['dup'] == 0, '%d duplicates' % r['dup'])
    check(r['stun_lost'] is not None, 'no STOP/RESUME relayed by libvirt')
    try:
        check(r['stun_lost'] <= STUN_MAX_LOSS,
              '%d lost around the stun' % r['stun_lost'])
        check(r['lost'] <= MAX_LOSS, '%d lost' % r['lost'])
    except Fail:
        diagnose_unreachable(dc, peer, g)
        raise
    check(dc.eni(g.eni).get('host') == dst, 'ENI not on ' + dst)
    ev = engine_events(dc, g.eni)[before:]
    log('tetherd: %s' % ' '.join(ev))
    check('move' not in ev, 'tetherd saw a cold move: %s' % ev)
    for e in ('prepare', 'switchover', 'activate', 'commit'):
        check(e in ev, 'tetherd did no %s: %s' % (e, ev))
    check(ev.index('prepare') < ev.index('switchover')
          < ev.index('activate') < ev.index('commit'),
          'out of order: %s' % ev)
    sl, dl = agent_log(dc.hvs[r['src']]), agent_log(dc.hvs[dst])
    check(re.search(r'ENI %s: libvirt domain g -> tether-migration=paused'
                    % g.eni, sl), 'no "paused" from libvirt on ' + r['src'])
    check(re.search(r'VIF plugged: \S+ eni %s mac \S+ ofport \d+ '
                    r'migration incoming' % g.eni, dl),
          'no VIF reported "incoming" on ' + dst)
    check(re.search(r'ENI %s: libvirt domain g -> '
                    r'tether-migration=activated' % g.eni, dl),
          'no "activated" from libvirt on ' + dst)


def destroy_guests(dc):
    for hv in dc.hvs.values():
        if hasattr(hv, 'lvdir'):
            hv.virsh('destroy', 'g', check=False, timeout=20)


def t_libvirt_migrate_aba():
    """hv2 -> hv3 -> hv2 under 1 kHz probes, phases from libvirt's
    events."""
    dc, peer, g = setup()
    try:
        for dst in ('hv3', 'hv2'):
            before = len(engine_events(dc, g.eni))
            r = migrate_measured(dc, peer, g, dst)
            check_migration(dc, peer, g, r, before)
    finally:
        destroy_guests(dc)
        teardown(dc)


def t_libvirt_migrate_abort():
    """virsh domjobabort half-way through the pre-copy: the destination's
    STOPPED is "failed", tetherd rolls back to hv2."""
    dc, peer, g = setup()
    try:
        before = len(engine_events(dc, g.eni))
        r = migrate_measured(dc, peer, g, 'hv3', abort=True)
        check(r['outcome'] == 'failed', 'migration ' + r['outcome'])
        log('virsh: %s' % r['error'])
        check(dc.eni(g.eni).get('host') == 'hv2', 'ENI not back on hv2')
        check(r['dup'] == 0, '%d duplicates' % r['dup'])
        check(r['lost'] <= 5, '%d lost on a rollback' % r['lost'])
        ev = engine_events(dc, g.eni)[before:]
        log('tetherd: %s' % ' '.join(ev))
        check('prepare' in ev and 'rollback' in ev and 'move' not in ev,
              'not a prepare and a rollback: %s' % ev)
        check(echo_ok(dc, peer, g) >= 19, 'guest unreachable after abort')
        # The same guest then migrates for real.
        before = len(engine_events(dc, g.eni))
        r = migrate_measured(dc, peer, g, 'hv3')
        check_migration(dc, peer, g, r, before)
    finally:
        destroy_guests(dc)
        teardown(dc)


def t_libvirtd_restart():
    """Both libvirt daemons restart (the guest runs on): the agents
    reconnect, learn the running domain again, and a migration under
    probes goes as in libvirt_migrate_aba."""
    dc, peer, g = setup()
    try:
        for name in ('hv2', 'hv3'):
            dc.hvs[name].restart_libvirtd()
        for name in ('hv2', 'hv3'):
            wait_until(lambda: agent_log(dc.hvs[name]).count(
                'connected, following domain events') >= 2, 20,
                'the agent on %s to reconnect to libvirt' % name)
        check('running here' in agent_log(dc.hvs['hv2']).split(
            'connected, following domain events')[-1],
            'the agent on hv2 did not find the running domain again')
        before = len(engine_events(dc, g.eni))
        r = migrate_measured(dc, peer, g, 'hv3')
        check_migration(dc, peer, g, r, before)
    finally:
        destroy_guests(dc)
        teardown(dc)


def t_libvirt_agent_restart_incoming():
    """The destination's agent killed (SIGKILL) in the middle of the
    pre-copy and started again: it finds the paused domain to be an
    incoming migration (libvirt refuses its job statistics there), so the
    resume still says "activated", and the migration passes as in
    libvirt_migrate_aba."""
    dc, peer, g = setup()
    dst = dc.hvs['hv3']

    def restart():
        dst.kill_agent(sig_.SIGKILL)
        dst.spawn_agent()
        wait_until(lambda: re.search(r'libvirt domain g \(\S+\): running '
                                     r'here, incoming migration',
                                     agent_log(dst)), 10,
                   'the restarted agent to find the incoming domain')
    try:
        before = len(engine_events(dc, g.eni))
        r = migrate_measured(dc, peer, g, 'hv3', during=restart)
        check_migration(dc, peer, g, r, before)
    finally:
        destroy_guests(dc)
        teardown(dc)


TESTS = {
    'libvirt_migrate_aba': t_libvirt_migrate_aba,
    'libvirt_migrate_abort': t_libvirt_migrate_abort,
    'libvirtd_restart': t_libvirtd_restart,
    'libvirt_agent_restart_incoming': t_libvirt_agent_restart_incoming,
}


def main():
    if sys.argv[1:] == ['list']:
        print(' '.join(TESTS))
        return 0
    name = sys.argv[1]
    why = available()
    if why:
        log('%s skipped: %s' % (name, why))
        return 77
    tries = int(os.environ.get('TETHER_QEMU_TRIES', '5'))
    for attempt in range(1, tries + 1):
        t0 = time.monotonic()
        try:
            TESTS[name]()
            log('%s passed (%.1f s)' % (name, time.monotonic() - t0))
            return 0
        except GuestCrashed as e:
            log('%s: %s: rerun (attempt %d of %d)' % (name, e, attempt,
                                                    tries))
        except (Fail, Error) as e:
            log('%s FAILED: %s' % (name, e))
            traceback.print_exc(file=sys.stdout)
            return 1
    log('%s: the guest crashed in every attempt' % name)
    return 1


if __name__ == '__main__':
    sys.exit(main())
