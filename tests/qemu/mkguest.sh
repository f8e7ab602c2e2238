#!/bin/sh
# Builds (once, then cached) the tests/qemu guest: the vmlinuz of Debian's
# cloud kernel, taken from its package without installing it, and a
# busybox-static initramfs with the virtio-net modules, a fixed IP (kernel
# argument tether.ip=) and guest-echo.  Fetches nothing but Debian packages.
#   mkguest.sh CACHE_DIR      prints CACHE_DIR/vmlinuz CACHE_DIR/initrd.gz
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: mkguest.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

need() { command -v "$1" >/dev/null 2>&1 || { echo "mkguest: $1 missing" >&2; exit 77; }; }
need dpkg-deb; need gcc; need gzip
[ -x /bin/busybox ] || { echo "mkguest: busybox-static missing" >&2; exit 77; }

if [ ! -s "$cache/vmlinuz" ] || [ ! -d "$cache/modules" ]; then
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -1)
    [ -n "$pkg" ] || { echo "mkguest: no linux-image-*-cloud-amd64 in apt" >&2; exit 77; }
    rm -rf "$cache/dl" && mkdir -p "$cache/dl"
    (cd "$cache/dl" && apt-get -o Acquire::Retries=3 download -q "$pkg" >/dev/null 2>&1) || {
        echo "mkguest: apt-get download $pkg failed" >&2; exit 77; }
    dpkg-deb -x "$cache"/dl/*.deb "$cache/dl/x"
    rm -rf "$cache/modules" && mkdir -p "$cache/modules"
    for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
             virtio_pci failover net_failover virtio_net; do
        f=$(find "$cache/dl/x/lib/modules" -name "$m.ko" | head -1)
        [ -n "$f" ] || { echo "mkguest: $m.ko not in $pkg" >&2; exit 1; }
        cp "$f" "$cache/modules/"
    done
    cp "$cache"/dl/x/boot/vmlinuz-* "$cache/vmlinuz.tmp"
    mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
    echo "$pkg" > "$cache/kernel-package"
    rm -rf "$cache/dl"
fi

if [ ! -s "$cache/initrd.gz" ] || [ "$here/guest-echo.c" -nt "$cache/initrd.gz" ] \
   || [ "$0" -nt "$cache/initrd.gz" ]; then
    root=$cache/root
    rm -rf "$root" && mkdir -p "$root/bin" "$root/lib/mod" "$root/proc" \
        "$root/sys" "$root/dev" "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for a in sh mount insmod ip sed sleep cat echo; do
        ln -s busybox "$root/bin/$a"
    done
    gcc -static -O2 -o "$root/bin/guest-echo" "$here/guest-echo.c"
    strip "$root/bin/guest-echo"
    cp "$cache"/modules/*.ko "$root/lib/mod/"
    cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
         virtio_pci failover net_failover virtio_net; do
    insmod /lib/mod/$m.ko
done
ip=$(sed -n 's/.*tether\.ip=\([^ ]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip link set eth0 mtu 1400 up
ip addr add "$ip" dev eth0
echo "tether-guest: ready $ip"
/bin/guest-echo &
while :; do sleep 3600; done
INIT
    chmod +x "$root/init"
    (cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -9 \
        > "$cache/initrd.gz.tmp"
    mv "$cache/initrd.gz.tmp" "$cache/initrd.gz"
    rm -rf "$root"
fi
echo "$cache/vmlinuz $cache/initrd.gz"
