# tests/unit: see tests/automake.mk

# proto/wire.c: framing and validation of the agent <-> controller protocol.
check_PROGRAMS += tests/unit/test-wire
TESTS += tests/unit/test-wire
tests_unit_test_wire_SOURCES = tests/unit/test-wire.c
nodist_tests_unit_test_wire_SOURCES = proto/tether.pb-c.h
tests_unit_test_wire_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_test_wire_LDADD = proto/libtetherproto.la lib/libtether.la \
	$(PROTOBUF_C_LIBS) $(CMOCKA_LIBS)
$(tests_unit_test_wire_OBJECTS): proto/tether.pb-c.h

# lib/validate.c: syntax of host ids, ENI ids, UUIDs, MACs and IPs.
check_PROGRAMS += tests/unit/test-validate
TESTS += tests/unit/test-validate
tests_unit_test_validate_SOURCES = tests/unit/test-validate.c
tests_unit_test_validate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_validate_LDADD = lib/libtether.la $(CMOCKA_LIBS)

# ovs-glue/flow-table.c: desired vs installed diff, plan order, cookies.
check_PROGRAMS += tests/unit/test-flow-table
TESTS += tests/unit/test-flow-table
tests_unit_test_flow_table_SOURCES = tests/unit/test-flow-table.c \
	tests/unit/switch-sim.c tests/unit/switch-sim.h \
	ovs-glue/flow-table.c ovs-glue/flow-table.h \
	ovs-glue/flow-build.c ovs-glue/flow-build.h
tests_unit_test_flow_table_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_flow_table_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_flow_table_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) \
	$(CMOCKA_LIBS) -latomic -lm

# proto/channel.c: frames over a bufferevent; bad input ends one channel.
check_PROGRAMS += tests/unit/test-channel
TESTS += tests/unit/test-channel
tests_unit_test_channel_SOURCES = tests/unit/test-channel.c
tests_unit_test_channel_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_test_channel_LDADD = proto/libtetherchannel.la \
	proto/libtetherproto.la lib/libtether.la \
	$(LIBEVENT_LIBS) $(OPENSSL_LIBS) $(PROTOBUF_C_LIBS) $(CMOCKA_LIBS)
$(tests_unit_test_channel_OBJECTS): proto/tether.pb-c.h

# controller/binding.c: VIF reports to ENI bindings (epochs, moves).
check_PROGRAMS += tests/unit/test-binding
TESTS += tests/unit/test-binding
tests_unit_test_binding_SOURCES = tests/unit/test-binding.c \
	controller/binding.c controller/binding.h \
	controller/eni.c controller/eni.h
tests_unit_test_binding_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_binding_LDADD = lib/libtether.la $(CMOCKA_LIBS)

# controller/flows*.c: the flows of a small scenario (three hosts, two VNIs
# with overlapping addresses, a security group, a migration), looked up in
# the produced tables; incremental updates equal a full recomputation.
check_PROGRAMS += tests/unit/test-flows
TESTS += tests/unit/test-flows
tests_unit_test_flows_SOURCES = tests/unit/test-flows.c \
	tests/unit/switch-sim.c tests/unit/switch-sim.h \
	controller/eni.c controller/eni.h \
	ovs-glue/flow-table.c ovs-glue/flow-table.h \
	ovs-glue/flow-build.c ovs-glue/flow-build.h
# The tables of test_golden, as the text-parsing computation built them.
EXTRA_DIST += tests/unit/flows-golden.txt
tests_unit_test_flows_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_flows_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_flows_LDADD = controller/libflows.la lib/libtether.la \
	$(OVS_LIBADD) $(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm

# controller/admission*.c: the migration admission rule engine.
check_PROGRAMS += tests/unit/test-admission
TESTS += tests/unit/test-admission
tests_unit_test_admission_SOURCES = tests/unit/test-admission.c
tests_unit_test_admission_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_admission_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_admission_LDADD = controller/libadmission.la \
	$(OVS_LIBADD) $(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm

# controller/cpu-features.c: CPU feature sets of hosts joining and leaving.
check_PROGRAMS += tests/unit/test-cpu-features
TESTS += tests/unit/test-cpu-features
tests_unit_test_cpu_features_SOURCES = tests/unit/test-cpu-features.c
tests_unit_test_cpu_features_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_cpu_features_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cpu_features_LDADD = controller/libadmission.la \
	lib/libcpuxml.la lib/libtether.la \
	$(OVS_LIBADD) $(OPENSSL_LIBS) $(LIBXML2_LIBS) $(CMOCKA_LIBS) \
	-latomic -lm

# lib/cpu-names.c, lib/cpu-xml.c: feature names, libvirt CPU XML read and
# written, the host CPU in libvirt capabilities.
check_PROGRAMS += tests/unit/test-cpu-xml
TESTS += tests/unit/test-cpu-xml
tests_unit_test_cpu_xml_SOURCES = tests/unit/test-cpu-xml.c
tests_unit_test_cpu_xml_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cpu_xml_LDADD = lib/libcpuxml.la lib/libtether.la \
	$(LIBXML2_LIBS) $(CMOCKA_LIBS)

# controller/libvirt-cpu.c: model expansion and baseline models from the
# real libvirt, through its in-process test driver (no daemon).
check_PROGRAMS += tests/unit/test-libvirt-cpu
TESTS += tests/unit/test-libvirt-cpu
tests_unit_test_libvirt_cpu_SOURCES = tests/unit/test-libvirt-cpu.c \
	controller/libvirt-cpu.c controller/libvirt-cpu.h
tests_unit_test_libvirt_cpu_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_libvirt_cpu_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(LIBVIRT_CFLAGS)
tests_unit_test_libvirt_cpu_LDADD = lib/libcpuxml.la lib/libtether.la \
	$(OVS_LIBADD) $(OPENSSL_LIBS) $(LIBVIRT_LIBS) $(LIBXML2_LIBS) \
	$(CMOCKA_LIBS) -latomic -lm

# hostagent/libvirt-phase.c: libvirt's domain events to migration markers,
# a domain XML's ENIs.
check_PROGRAMS += tests/unit/test-libvirt-phase
TESTS += tests/unit/test-libvirt-phase
tests_unit_test_libvirt_phase_SOURCES = tests/unit/test-libvirt-phase.c \
	hostagent/libvirt-phase.c hostagent/libvirt-phase.h
tests_unit_test_libvirt_phase_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_libvirt_phase_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(LIBVIRT_CFLAGS) $(LIBXML2_CFLAGS)
tests_unit_test_libvirt_phase_LDADD = $(OVS_LIBADD) $(LIBXML2_LIBS) \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS) -latomic -lm

# hostagent/relay.c: a VIF's delivery stamps matched to the relay's copies.
check_PROGRAMS += tests/unit/test-relay
TESTS += tests/unit/test-relay
tests_unit_test_relay_SOURCES = tests/unit/test-relay.c \
	hostagent/relay.c hostagent/relay.h
tests_unit_test_relay_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_relay_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_relay_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) \
	$(CMOCKA_LIBS) -latomic -lm -lpthread

# hostagent/qmp.c: QEMU's events as migration phases, against a fake QEMU on
# a unix socket; when a held source gets its migrate-continue.
check_PROGRAMS += tests/unit/test-qmp
TESTS += tests/unit/test-qmp
tests_unit_test_qmp_SOURCES = tests/unit/test-qmp.c \
	hostagent/qmp.c hostagent/qmp.h
tests_unit_test_qmp_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_qmp_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_qmp_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) \
	$(CMOCKA_LIBS) -latomic -lm -lpthread

# hostagent/relay.c on veth pairs in a network namespace of its own (root
# only; a skipped plan otherwise): which frames it sends on at a pause,
# whichever of a frame's relay copy and VIF copy comes first.
check_PROGRAMS += tests/unit/test-relay-order
TESTS += tests/unit/test-relay-order
tests_unit_test_relay_order_SOURCES = tests/unit/test-relay-order.c \
	hostagent/relay.c hostagent/relay.h \
	tests/netns.c tests/netns.h
tests_unit_test_relay_order_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_relay_order_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_relay_order_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) \
	$(CMOCKA_LIBS) -latomic -lm -lpthread
