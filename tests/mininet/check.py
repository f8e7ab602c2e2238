#!/usr/bin/python3
"""Runs every Mininet test, each in its own run.sh (private pid, mount and
network namespaces, hard time limit), prints TAP and a closing line
'mininet: N passed, M failed'; exits 1 if any failed, 77 (skip) without
root.  Usage: check.py [NAME...]  (env: TETHER_BUILD, TETHER_MN_OUT,
TETHER_MN_TIMEOUT per test, default 150 s)."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hosttune                                         # noqa: E402


def main():
    if os.geteuid() != 0:
        print('1..0 # SKIP mininet tests need root')
        return 77
    names = sys.argv[1:] or subprocess.check_output(
        [sys.executable, os.path.join(HERE, 'tests.py'), 'list'],
        text=True).split()
    limit = os.environ.get('TETHER_MN_TIMEOUT', '150')
    print('1..%d' % len(names), flush=True)
    with hosttune.tuned():
        return run(names, limit)


def run(names, limit):
    passed = failed = 0
    t_all = time.monotonic()
    for i, name in enumerate(names, 1):
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(HERE, 'run.sh'), '--timeout=' + limit,
                            os.path.join(HERE, 'tests.py'), name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        for line in r.stdout.splitlines():
            print(line if line.startswith('#') else '# ' + line)
        ok = r.returncode == 0
        print('%s %d - %s (%.1f s)%s' % ('ok' if ok else 'not ok', i, name,
                                         time.monotonic() - t0,
                                         '' if ok else ' rc=%d' % r.returncode),
              flush=True)
        passed += ok
        failed += not ok
    print('# total %.0f s' % (time.monotonic() - t_all))
    print('mininet: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
