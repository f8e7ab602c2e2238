#!/bin/sh
# Makes a machine ready to build tether, idempotently: installs the Debian
# packages that are missing, builds libopenvswitch from Debian's
# openvswitch-source into .ovs/ (reused when already built there), and
# generates ./configure.  Run as root (or with the packages already there).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
ovs_dir=${TETHER_OVS_DIR:-$top/.ovs}

PACKAGES="autoconf automake libtool make gcc pkg-config
  libevent-dev libprotobuf-c-dev protobuf-c-compiler libcmocka-dev
  libssl-dev libcap-ng-dev libunbound-dev
  libvirt-dev libxml2-dev libvirt-clients libvirt-daemon-driver-qemu
  openvswitch-switch openvswitch-source python3
  clang libclang-rt-14-dev
  mininet iproute2 ethtool iputils-ping procps util-linux
  python3-matplotlib"

log() { echo "bootstrap: $*"; }

missing=
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    log "installing Debian packages:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: need root to install:$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # The archive is reached over the network: a failed fetch is retried
    # (by apt, then the whole command twice more) before the build gives up.
    apt_retry() {
        for try in 1 2 3; do
            apt-get -o Acquire::Retries=3 "$@" && return 0
            log "apt-get $1 failed (try $try of 3)"
            [ "$try" = 3 ] || sleep 15
        done
        return 1
    }
    apt_retry update -q
    # openvswitch-switch would start its service where systemd runs; the
    # tests start their own daemons, so keep package scripts from starting any.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt_retry install -y -q --no-install-recommends $missing || {
        rm -f /usr/sbin/policy-rc.d; exit 1; }
    rm -f /usr/sbin/policy-rc.d
fi

# libopenvswitch: Debian ships no -dev package, only the source tarball with
# configure already generated.  Build just the library and the generated
# headers tether compiles against.
tarball=/usr/src/openvswitch/openvswitch.tar.gz
stamp=$ovs_dir/.built
want=$(cksum < "$tarball" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -f "$ovs_dir/openvswitch/lib/libopenvswitch.la" ]; then
    log "libopenvswitch already built in $ovs_dir"
else
    log "building libopenvswitch in $ovs_dir"
    rm -rf "$ovs_dir"
    mkdir -p "$ovs_dir"
    tar -xzf "$tarball" -C "$ovs_dir"
    cd "$ovs_dir/openvswitch"
    ./configure -q --enable-static --disable-shared PYTHON3=/usr/bin/python3 \
        > "$ovs_dir/configure.log" 2>&1 || {
        tail -20 "$ovs_dir/configure.log"; exit 1; }
    jobs=$(nproc 2>/dev/null || echo 2)
    make -j"$jobs" include/odp-netlink.h include/odp-netlink-macros.h \
        lib/vswitch-idl.h lib/vswitch-idl.c \
        lib/ovsdb-server-idl.h lib/ovsdb-server-idl.c > "$ovs_dir/make.log" 2>&1 || {
        tail -20 "$ovs_dir/make.log"; exit 1; }
    make -j"$jobs" lib/libopenvswitch.la >> "$ovs_dir/make.log" 2>&1 || {
        tail -20 "$ovs_dir/make.log"; exit 1; }
    echo "$want" > "$stamp"
    cd "$top"
fi

if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] \
   || [ "$top/m4/tether.m4" -nt "$top/configure" ]; then
    log "autoreconf"
    (cd "$top" && autoreconf -fi > /dev/null)
fi
log "ready"
