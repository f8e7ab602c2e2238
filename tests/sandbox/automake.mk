# tests/sandbox: see tests/automake.mk

# libsandbox: a private ovsdb-server + ovs-vswitchd per test (sandbox.h).
noinst_LTLIBRARIES += tests/sandbox/libsandbox.la
tests_sandbox_libsandbox_la_SOURCES = \
	tests/sandbox/sandbox.c tests/sandbox/sandbox.h

# ovs-glue/vif-monitor.c and bridge-setup.c against a real OVS, including an
# ovsdb-server restart.
check_PROGRAMS += tests/sandbox/test-ovsdb
TESTS += tests/sandbox/test-ovsdb
tests_sandbox_test_ovsdb_SOURCES = tests/sandbox/test-ovsdb.c
tests_sandbox_test_ovsdb_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_sandbox_test_ovsdb_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_sandbox_test_ovsdb_LDADD = ovs-glue/libovsglue.la \
	tests/sandbox/libsandbox.la $(OVS_LIBADD) $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm

# The built tetherd and tether-agent: registration, and a raw client that
# breaks the protocol every way (tests/sandbox/test-daemons.c).
check_PROGRAMS += tests/sandbox/test-daemons
TESTS += tests/sandbox/test-daemons
tests_sandbox_test_daemons_SOURCES = tests/sandbox/test-daemons.c
tests_sandbox_test_daemons_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(PROTOBUF_C_CFLAGS)
tests_sandbox_test_daemons_LDADD = tests/sandbox/libsandbox.la \
	proto/libtetherproto.la lib/libtether.la $(PROTOBUF_C_LIBS) \
	$(CMOCKA_LIBS)
$(tests_sandbox_test_daemons_OBJECTS): proto/tether.pb-c.h

# ovs-glue's OpenFlow side (of-server, of-switch, flow-table) against a real
# ovs-vswitchd: bundles, reconciliation, packet-in/out, groups, errors.
check_PROGRAMS += tests/sandbox/test-openflow
TESTS += tests/sandbox/test-openflow
tests_sandbox_test_openflow_SOURCES = tests/sandbox/test-openflow.c
tests_sandbox_test_openflow_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_sandbox_test_openflow_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_sandbox_test_openflow_LDADD = ovs-glue/libovsglue.la \
	tests/sandbox/libsandbox.la $(OVS_LIBADD) $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm

# The agent protocol over TLS with mutual certificates, real daemons
# (tests/sandbox/test-tls.c).
check_PROGRAMS += tests/sandbox/test-tls
TESTS += tests/sandbox/test-tls
tests_sandbox_test_tls_SOURCES = tests/sandbox/test-tls.c
tests_sandbox_test_tls_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_tls_LDADD = tests/sandbox/libsandbox.la $(CMOCKA_LIBS)

# The fabric: several dummy-datapath hypervisors on one underlay, with VMs,
# frame builders and pcap reading (fabric.h, pcap.h); tested without tetherd.
tests_sandbox_libsandbox_la_SOURCES += \
	tests/sandbox/fabric.c tests/sandbox/fabric.h \
	tests/sandbox/pcap.c tests/sandbox/pcap.h
check_PROGRAMS += tests/sandbox/test-fabric
TESTS += tests/sandbox/test-fabric
tests_sandbox_test_fabric_SOURCES = tests/sandbox/test-fabric.c
tests_sandbox_test_fabric_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_fabric_LDADD = tests/sandbox/libsandbox.la $(CMOCKA_LIBS)

# controller/eni-store.c on its own ovsdb-server (controller/tether.ovsschema):
# API writes, error cases, bindings, restarts of the store and the server.
check_PROGRAMS += tests/sandbox/test-eni-store
TESTS += tests/sandbox/test-eni-store
tests_sandbox_test_eni_store_SOURCES = tests/sandbox/test-eni-store.c \
	controller/eni-store.c controller/eni-store.h \
	controller/eni-store-db.c controller/eni-store-private.h \
	controller/eni.c controller/eni.h
nodist_tests_sandbox_test_eni_store_SOURCES = \
	controller/tether-idl.c controller/tether-idl.h
tests_sandbox_test_eni_store_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_sandbox_test_eni_store_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_sandbox_test_eni_store_LDADD = ovs-glue/libovsglue.la \
	tests/sandbox/libsandbox.la lib/libtether.la $(OVS_LIBADD) \
	$(LIBEVENT_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm
$(tests_sandbox_test_eni_store_OBJECTS): controller/tether-idl.h

# The REST API (controller/librest.la) on a real ENI store and its own
# ovsdb-server, every endpoint and every kind of bad request; and the built
# tetherctl against it for its output and exit codes.
check_PROGRAMS += tests/sandbox/test-rest
TESTS += tests/sandbox/test-rest
tests_sandbox_test_rest_SOURCES = tests/sandbox/test-rest.c \
	controller/eni-store.c controller/eni-store.h \
	controller/eni-store-db.c controller/eni-store-private.h \
	controller/eni.c controller/eni.h \
	controller/host-registry.c controller/host-registry.h
nodist_tests_sandbox_test_rest_SOURCES = \
	controller/tether-idl.c controller/tether-idl.h
tests_sandbox_test_rest_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_sandbox_test_rest_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_sandbox_test_rest_LDADD = controller/librest.la ovs-glue/libovsglue.la \
	tests/sandbox/libsandbox.la lib/libtether.la $(OVS_LIBADD) \
	$(LIBEVENT_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm
EXTRA_tests_sandbox_test_rest_DEPENDENCIES = ctl/tetherctl
$(tests_sandbox_test_rest_OBJECTS): controller/tether-idl.h

# controller/flows*.c in a real ovs-vswitchd: hv1's computed tables are
# installed with ovs-ofctl and packets traced through them (ofproto/trace).
check_PROGRAMS += tests/sandbox/test-datapath-trace
TESTS += tests/sandbox/test-datapath-trace
tests_sandbox_test_datapath_trace_SOURCES = \
	tests/sandbox/test-datapath-trace.c \
	controller/eni.c controller/eni.h \
	ovs-glue/flow-table.c ovs-glue/flow-table.h \
	ovs-glue/flow-build.c ovs-glue/flow-build.h
tests_sandbox_test_datapath_trace_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_sandbox_test_datapath_trace_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_datapath_trace_LDADD = controller/libflows.la \
	tests/sandbox/libsandbox.la lib/libtether.la $(OVS_LIBADD) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm

# End to end: tetherd, its database and a tether-agent per hypervisor on a
# fabric (dc.[ch]); ENIs and security groups through the REST API, traffic
# between VMs (test-enis.c), and daemons killed and restarted under traffic
# (test-enis-restart.c).
check_PROGRAMS += tests/sandbox/test-enis
TESTS += tests/sandbox/test-enis
tests_sandbox_test_enis_SOURCES = tests/sandbox/test-enis.c \
	tests/sandbox/dc.c tests/sandbox/dc.h
tests_sandbox_test_enis_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_enis_LDADD = tests/sandbox/libsandbox.la $(CMOCKA_LIBS)
EXTRA_tests_sandbox_test_enis_DEPENDENCIES = controller/tetherd \
	hostagent/tether-agent ctl/tetherctl
check_PROGRAMS += tests/sandbox/test-enis-restart
TESTS += tests/sandbox/test-enis-restart
tests_sandbox_test_enis_restart_SOURCES = tests/sandbox/test-enis-restart.c \
	tests/sandbox/dc.c tests/sandbox/dc.h
tests_sandbox_test_enis_restart_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_enis_restart_LDADD = tests/sandbox/libsandbox.la \
	$(CMOCKA_LIBS)
EXTRA_tests_sandbox_test_enis_restart_DEPENDENCIES = controller/tetherd \
	hostagent/tether-agent ctl/tetherctl

# Live migration, make-before-break, end to end (test-migration.c): VMs on
# dummy ports' streams driven as a hypervisor drives them (vm.[ch]) under
# 1 kHz sequenced probes (probe.[ch]).  test-migration-harness is the same
# file with only the tests that need no migration support in tether.
tests_sandbox_libsandbox_la_SOURCES += \
	tests/sandbox/vm.c tests/sandbox/vm.h \
	tests/sandbox/probe.c tests/sandbox/probe.h
check_PROGRAMS += tests/sandbox/test-migration-harness
TESTS += tests/sandbox/test-migration-harness
tests_sandbox_test_migration_harness_SOURCES = \
	tests/sandbox/test-migration.c tests/sandbox/dc.c tests/sandbox/dc.h
tests_sandbox_test_migration_harness_CPPFLAGS = $(AM_CPPFLAGS) -DHARNESS_ONLY
tests_sandbox_test_migration_harness_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_migration_harness_LDADD = tests/sandbox/libsandbox.la \
	$(CMOCKA_LIBS) -lpthread
EXTRA_tests_sandbox_test_migration_harness_DEPENDENCIES = \
	controller/tetherd hostagent/tether-agent ctl/tetherctl
check_PROGRAMS += tests/sandbox/test-migration
TESTS += tests/sandbox/test-migration
tests_sandbox_test_migration_SOURCES = tests/sandbox/test-migration.c \
	tests/sandbox/dc.c tests/sandbox/dc.h
tests_sandbox_test_migration_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_migration_LDADD = tests/sandbox/libsandbox.la \
	$(CMOCKA_LIBS) -lpthread
EXTRA_tests_sandbox_test_migration_DEPENDENCIES = controller/tetherd \
	hostagent/tether-agent ctl/tetherctl

# Migration admission end to end (test-admission.c): must rules and CPU
# features refuse a prepare, evacuation plans, recommendations.
check_PROGRAMS += tests/sandbox/test-admission
TESTS += tests/sandbox/test-admission
tests_sandbox_test_admission_SOURCES = tests/sandbox/test-admission.c \
	tests/sandbox/dc.c tests/sandbox/dc.h
tests_sandbox_test_admission_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_admission_LDADD = tests/sandbox/libsandbox.la \
	$(CMOCKA_LIBS) -lpthread
EXTRA_tests_sandbox_test_admission_DEPENDENCIES = controller/tetherd \
	hostagent/tether-agent ctl/tetherctl

# tether-agent --libvirt-events with libvirt's test driver
# (test-libvirt-gate.c): which new VIFs are held back before tetherd hears
# of them.
check_PROGRAMS += tests/sandbox/test-libvirt-gate
TESTS += tests/sandbox/test-libvirt-gate
tests_sandbox_test_libvirt_gate_SOURCES = tests/sandbox/test-libvirt-gate.c \
	tests/sandbox/dc.c tests/sandbox/dc.h
tests_sandbox_test_libvirt_gate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sandbox_test_libvirt_gate_LDADD = tests/sandbox/libsandbox.la \
	$(CMOCKA_LIBS) -lpthread
EXTRA_tests_sandbox_test_libvirt_gate_DEPENDENCIES = controller/tetherd \
	hostagent/tether-agent ctl/tetherctl

# test-migration measures losses in milliseconds: it runs alone, after every
# other test of the run has finished, so that a parallel `make check` does
# not load the machine under it.
# (Named through a variable: this only adds prerequisites to Automake's own
# rule for the log.)
TIMING_TEST_LOG = tests/sandbox/test-migration.log
$(TIMING_TEST_LOG): $(filter-out $(TIMING_TEST_LOG),$(TEST_LOGS))
