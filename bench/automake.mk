# bench/: benchmarks; each prints lines "name: value unit".  `make bench`.

# Every benchmark program adds itself to BENCHMARKS; `make bench` builds and
# runs them all, in order.
BENCHMARKS =
.PHONY: bench
bench: $(BENCHMARKS)
	@for b in $(BENCHMARKS); do \
	  echo "== $$b"; ./$$b || exit 1; \
	done

# ovsdb-event: Interface row committed -> vif-monitor callback, on a sandbox.
noinst_PROGRAMS += bench/ovsdb-event
BENCHMARKS += bench/ovsdb-event
bench_ovsdb_event_SOURCES = bench/ovsdb-event.c
bench_ovsdb_event_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
bench_ovsdb_event_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_ovsdb_event_LDADD = ovs-glue/libovsglue.la \
	tests/sandbox/libsandbox.la $(OVS_LIBADD) $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS) -latomic -lm

# flowmod: 50,000 flows through ovs-glue vs ovs-ofctl --bundle, on a sandbox.
noinst_PROGRAMS += bench/flowmod
BENCHMARKS += bench/flowmod
bench_flowmod_SOURCES = bench/flowmod.c
bench_flowmod_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
bench_flowmod_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_flowmod_LDADD = ovs-glue/libovsglue.la \
	tests/sandbox/libsandbox.la $(OVS_LIBADD) $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS) -latomic -lm

# migration: loss and duplicates of a live migration under 1 kHz probes,
# make-before-break vs break-before-make, on a sandbox data center.
noinst_PROGRAMS += bench/migration
BENCHMARKS += bench/migration
bench_migration_SOURCES = bench/migration.c \
	tests/sandbox/dc.c tests/sandbox/dc.h
bench_migration_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
bench_migration_LDADD = tests/sandbox/libsandbox.la -lpthread
EXTRA_bench_migration_DEPENDENCIES = controller/tetherd \
	hostagent/tether-agent ctl/tetherctl

# scale-dc: tetherd at data-center scale (1,000 simulated hypervisors,
# 100,000 ENIs) in front of bench/sim*.c; sizes from TETHER_SCALE_*.
noinst_PROGRAMS += bench/scale-dc
BENCHMARKS += bench/scale-dc
bench_scale_dc_SOURCES = bench/scale-dc.c bench/sim.h bench/sim-loop.c \
	bench/sim-switches.c bench/sim-agents.c
nodist_bench_scale_dc_SOURCES = proto/tether.pb-c.h
bench_scale_dc_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS) \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"' -DTOP_BUILDDIR='"$(abs_top_builddir)"'
bench_scale_dc_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
bench_scale_dc_LDADD = ovs-glue/libovsglue.la proto/libtetherproto.la \
	lib/libtether.la \
	$(OVS_LIBADD) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS) -latomic -lm
EXTRA_bench_scale_dc_DEPENDENCIES = controller/tetherd

# admission: an evacuation plan for 1,000 hosts, 100,000 ENIs, 50 rules.
noinst_PROGRAMS += bench/admission
BENCHMARKS += bench/admission
bench_admission_SOURCES = bench/admission.c
bench_admission_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
bench_admission_LDADD = controller/libadmission.la $(OVS_LIBADD) \
	$(OPENSSL_LIBS) -latomic -lm

# relay: the CPU cost of the agent's migration relay (hostagent/relay.c) per
# frame, capturing and relaying, on veth pairs in a network namespace of
# its own (root only; skipped otherwise).
noinst_PROGRAMS += bench/relay
BENCHMARKS += bench/relay
bench_relay_SOURCES = bench/relay.c \
	hostagent/relay.c hostagent/relay.h \
	tests/netns.c tests/netns.h
bench_relay_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
bench_relay_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) -latomic -lm -lpthread
