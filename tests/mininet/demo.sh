#!/bin/sh
# The Mininet demo (root): builds tether unless TETHER_BUILD names a build
# tree, then runs tests/mininet/demo.py in private namespaces.  Arguments go
# to demo.py (--stun-ms=MS, --mode=break-before-make, --png=FILE).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ -z "${TETHER_BUILD:-}" ]; then
    "$top/scripts/bootstrap.sh"
    mkdir -p "$top/_build/demo"
    cd "$top/_build/demo"
    [ -f Makefile ] && [ ! "$top/configure" -nt Makefile ] || ../../configure -q
    make -j"$(nproc 2>/dev/null || echo 2)" > build.log 2>&1 || {
        tail -40 build.log; exit 1; }
    TETHER_BUILD=$(pwd)
    cd - > /dev/null
fi
export TETHER_BUILD
case " $* " in *" --png"*) ;; *) set -- "$@" --png="$(pwd)/tether-migration.png" ;; esac
exec "$here/run.sh" --timeout=300 "$here/demo.py" "$@"
