# tests/qemu: the real-hypervisor tier (root; see README.md).
QEMU_TEST_FILES = \
	tests/qemu/README.md \
	tests/qemu/bench.py \
	tests/qemu/check.py \
	tests/qemu/deps.sh \
	tests/qemu/guest-echo.c \
	tests/qemu/lvnet.py \
	tests/qemu/lvtests.py \
	tests/qemu/mkguest.sh \
	tests/qemu/qemunet.py \
	tests/qemu/qtests.py
EXTRA_DIST += $(QEMU_TEST_FILES)

# QEMU, busybox-static and the libvirt daemon are installed if missing
# (deps.sh; 77 = skip);
# the guest is built once into tests/qemu/cache of the build tree, here,
# outside the tests' namespaces (apt has no network in them).  Every
# test runs in its own tests/mininet/run.sh (private namespaces, hard time
# limit); the whole run is bounded too.  Prints TAP and "qemu: N passed, M
# failed".
check-qemu: all
	@$(abs_top_srcdir)/tests/qemu/deps.sh; rc=$$?; \
	  if [ $$rc = 77 ]; then echo "check-qemu: skipped"; exit 0; fi; \
	  [ $$rc = 0 ] || exit $$rc; \
	  $(abs_top_srcdir)/tests/qemu/mkguest.sh $(abs_top_builddir)/tests/qemu/cache \
	    >/dev/null; rc=$$?; \
	  if [ $$rc = 77 ]; then echo "check-qemu: skipped (no guest)"; exit 0; fi; \
	  [ $$rc = 0 ] || exit $$rc
	TETHER_BUILD=$(abs_top_builddir) timeout -s INT -k 30 900 \
	  /usr/bin/python3 $(abs_top_srcdir)/tests/qemu/check.py $(QEMU_TESTS)
.PHONY: check-qemu

# bench/qemu: qemu_loss_ms_tether, qemu_loss_ms_bridge, qemu_dup_tether,
# qemu_stun_ms over QEMU_BENCH_MIGRATIONS (10) migrations per mode.
QEMU_BENCH_MIGRATIONS = 10
bench-qemu: all
	@$(abs_top_srcdir)/tests/qemu/deps.sh
	@$(abs_top_srcdir)/tests/qemu/mkguest.sh $(abs_top_builddir)/tests/qemu/cache >/dev/null
	TETHER_BUILD=$(abs_top_builddir) \
	  /usr/bin/python3 $(abs_top_srcdir)/tests/mininet/hosttune.py \
	  $(abs_top_srcdir)/tests/mininet/run.sh --timeout=1500 \
	  $(abs_top_srcdir)/tests/qemu/bench.py $(QEMU_BENCH_MIGRATIONS)
.PHONY: bench-qemu
