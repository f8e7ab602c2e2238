#!/bin/sh
# Runs tetherd's database: an ovsdb-server for controller/tether.ovsschema
# with its files in one directory.  "start DIR" creates DIR/tether.db if it
# is missing (converting an older one to the schema's version) and starts a
# detached ovsdb-server on unix:DIR/db.sock; "stop DIR" stops it by its
# pidfile.  tetherd is then started with --db=unix:DIR/db.sock (its
# default, unix:/var/run/tether/db.sock, is "start /var/run/tether").
#
# The schema is $TETHER_SCHEMA, else the installed one, else the source
# tree's.
set -eu

usage() {
    echo "usage: $0 start|stop|status DIR" >&2
    exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

find_schema() {
    here=$(cd "$(dirname "$0")" && pwd)
    for s in "${TETHER_SCHEMA:-}" \
             /usr/local/share/tether/tether.ovsschema \
             /usr/share/tether/tether.ovsschema \
             "$here/../controller/tether.ovsschema"; do
        if [ -n "$s" ] && [ -f "$s" ]; then
            echo "$s"
            return 0
        fi
    done
    echo "$0: tether.ovsschema not found (set TETHER_SCHEMA)" >&2
    return 1
}

ovsdb_server=${OVSDB_SERVER:-}
if [ -z "$ovsdb_server" ]; then
    ovsdb_server=$(PATH=$PATH:/usr/sbin:/sbin command -v ovsdb-server) || {
        echo "$0: ovsdb-server not found: install the Debian package" \
             "openvswitch-switch" >&2
        exit 1
    }
fi

case $cmd in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    schema=$(find_schema)
    if [ ! -f "$dir/tether.db" ]; then
        ovsdb-tool create "$dir/tether.db" "$schema"
    elif [ "$(ovsdb-tool needs-conversion "$dir/tether.db" "$schema")" = yes ]
    then
        ovsdb-tool convert "$dir/tether.db" "$schema"
    fi
    "$ovsdb_server" "$dir/tether.db" \
        --remote="punix:$dir/db.sock" \
        --pidfile="$dir/ovsdb-server.pid" \
        --unixctl="$dir/ovsdb-server.ctl" \
        --log-file="$dir/ovsdb-server.log" \
        --no-chdir --detach
    echo "unix:$dir/db.sock"
    ;;
stop)
    dir=$(cd "$dir" && pwd)
    pidfile=$dir/ovsdb-server.pid
    [ -f "$pidfile" ] || { echo "$0: $pidfile: not running" >&2; exit 1; }
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    ;;
status)
    dir=$(cd "$dir" && pwd)
    pidfile=$dir/ovsdb-server.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "running: pid $(cat "$pidfile"), unix:$dir/db.sock"
    else
        echo "not running"
        exit 1
    fi
    ;;
*)
    usage
    ;;
esac
