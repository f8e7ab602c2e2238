#!/usr/bin/python3
"""Runs every QEMU test (qtests.py, lvtests.py), each in its own ../mininet/run.sh
(private pid, mount and
network namespaces, hard time limit), prints TAP and a closing line
'qemu: N passed, M failed'; exits 1 if any failed, 77 (skip) without
root.  Usage: check.py [NAME...]  (env: TETHER_BUILD, TETHER_MN_OUT,
TETHER_QEMU_TIMEOUT per test, default 240 s)."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'mininet'))
import hosttune                                         # noqa: E402
# The test files: QEMU driven over QMP by the test, and QEMU driven by
# libvirt daemons.
TEST_FILES = ['qtests.py', 'lvtests.py']


def main():
    if os.geteuid() != 0:
        print('1..0 # SKIP qemu tests need root')
        return 77
    # Every test file answers 'list'; a test runs from the file that
    # lists it.
    where = {}
    for f in TEST_FILES:
        path = os.path.join(HERE, f)
        if os.path.exists(path):
            for n in subprocess.check_output([sys.executable, path, 'list'],
                                             text=True).split():
                where[n] = path
    defaults = list(where)
    # Tests run only when named (qtests.py OPTIONAL).
    for n in subprocess.check_output(
            [sys.executable, os.path.join(HERE, 'qtests.py'),
             'list-optional'], text=True).split():
        where[n] = os.path.join(HERE, 'qtests.py')
    names = sys.argv[1:] or defaults
    unknown = [n for n in names if n not in where]
    if unknown:
        print('check.py: no such test: %s' % ' '.join(unknown),
              file=sys.stderr)
        return 2
    limit = os.environ.get('TETHER_QEMU_TIMEOUT', '240')
    print('1..%d' % len(names), flush=True)
    with hosttune.tuned():
        return run(names, where, limit)


def run(names, where, limit):
    passed = failed = 0
    t_all = time.monotonic()
    for i, name in enumerate(names, 1):
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(HERE, '..', 'mininet', 'run.sh'),
                            '--timeout=' + limit,
                            where[name], name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        for line in r.stdout.splitlines():
            print(line if line.startswith('#') else '# ' + line)
        # 77: the test cannot run here (e.g. no libvirt daemon).
        skip = r.returncode == 77
        ok = r.returncode == 0 or skip
        print('%s %d - %s (%.1f s)%s' % ('ok' if ok else 'not ok', i, name,
                                         time.monotonic() - t0,
                                         ' # SKIP' if skip else
                                         '' if ok else ' rc=%d' % r.returncode),
              flush=True)
        passed += ok
        failed += not ok
    print('# total %.0f s' % (time.monotonic() - t_all))
    print('qemu: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
