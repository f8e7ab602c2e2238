#!/bin/sh
# Installs what tests/qemu needs and the build does not (QEMU, busybox-static,
# the libvirt daemon and virsh for lvtests.py)
# from Debian, as scripts/bootstrap.sh does for the rest; exits 77 (skip)
# when they are missing and cannot be installed.
set -eu
PACKAGES="qemu-system-x86 qemu-utils busybox-static libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
missing=
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "tests/qemu: need root to install:$missing" >&2
    exit 77
fi
echo "tests/qemu: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o Acquire::Retries=3 update -q >/dev/null || exit 77
apt-get -o Acquire::Retries=3 install -y -q --no-install-recommends $missing >/dev/null || exit 77
