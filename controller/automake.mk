# controller/: tetherd, the data-center controller.
sbin_PROGRAMS += controller/tetherd
controller_tetherd_SOURCES = \
	controller/agent-server.c controller/agent-server.h \
	controller/binding.c controller/binding.h \
	controller/engine.c controller/engine.h \
	controller/eni.c controller/eni.h \
	controller/host-registry.c controller/host-registry.h \
	controller/physical.c controller/physical.h \
	controller/libvirt-cpu.c controller/libvirt-cpu.h \
	controller/placement.c controller/placement.h \
	controller/tetherd.c
controller_tetherd_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
controller_tetherd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBVIRT_CFLAGS)
controller_tetherd_LDADD = ovs-glue/libovsglue.la proto/libtetherchannel.la \
	proto/libtetherproto.la lib/libcpuxml.la lib/libtether.la \
	$(OVS_LIBADD) $(LIBEVENT_LIBS) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS) \
	$(LIBVIRT_LIBS) $(LIBXML2_LIBS)
$(controller_tetherd_OBJECTS): proto/tether.pb-c.h

# tetherd's database: controller/tether.ovsschema (installed for
# scripts/tether-db.sh), and its C IDL controller/tether-idl.[ch], generated
# into the build tree by Open vSwitch's ovsdb-idlc the way Open vSwitch
# generates lib/vswitch-idl.[ch].  controller/eni-store-db.c reads and
# writes the database through it.
dist_pkgdata_DATA = controller/tether.ovsschema
EXTRA_DIST += controller/tether-idl.ann
dist_pkgdata_SCRIPTS = scripts/tether-db.sh
controller_tetherd_SOURCES += controller/eni-store.c controller/eni-store.h \
	controller/eni-store-db.c controller/eni-store-private.h
nodist_controller_tetherd_SOURCES = \
	controller/tether-idl.c controller/tether-idl.h
TETHER_IDL_BUILT = \
	controller/tether-idl.c controller/tether-idl.h \
	controller/tether-idl.ovsidl
BUILT_SOURCES += controller/tether-idl.c controller/tether-idl.h
CLEANFILES += $(TETHER_IDL_BUILT)
$(controller_tetherd_OBJECTS): controller/tether-idl.h
# controller/admission-store.c keeps the admission configuration in the same
# database (table Admission_Config), through the same IDL.
controller_tetherd_SOURCES += \
	controller/admission-store.c controller/admission-store.h

# ovsdb-idlc is a Python script in the Open vSwitch source tree; its "ovs"
# package is next to it (build tree first, for a generated ovs/dirs.py).
OVSDB_IDLC_PY3 = python3
OVSDB_IDLC = PYTHONPATH=$(OVS_BUILDDIR)/python:$(OVS_SRCDIR)/python \
	PYTHONDONTWRITEBYTECODE=yes $(OVSDB_IDLC_PY3) \
	$(OVS_SRCDIR)/ovsdb/ovsdb-idlc.in
controller/tether-idl.ovsidl: controller/tether.ovsschema \
		controller/tether-idl.ann
	$(AM_V_GEN)$(MKDIR_P) controller && \
	$(OVSDB_IDLC) annotate $(srcdir)/controller/tether.ovsschema \
		$(srcdir)/controller/tether-idl.ann > $@.tmp && mv $@.tmp $@
controller/tether-idl.h: controller/tether-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-header $< > $@.tmp && mv $@.tmp $@
controller/tether-idl.c: controller/tether-idl.ovsidl
	$(AM_V_GEN)$(OVSDB_IDLC) c-idl-source $< > $@.tmp && mv $@.tmp $@

# controller/librest.la: the REST API (rest.h) and the metrics registry
# (metrics.h).  A convenience library, so tetherd links it once wired in and
# the tests link it directly; the libraries after it come again because a
# static link resolves left to right.
noinst_LTLIBRARIES += controller/librest.la
controller_librest_la_SOURCES = \
	controller/metrics.c controller/metrics.h \
	controller/rest.h controller/rest-private.h \
	controller/rest-server.c controller/rest-json.c controller/rest-json.h \
	controller/rest-eni.c controller/rest-sg.c controller/rest-host.c \
	controller/rest-admission.c
controller_librest_la_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
controller_librest_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
controller_tetherd_LDADD += controller/librest.la controller/libflows.la \
	controller/libadmission.la \
	ovs-glue/libovsglue.la lib/libtether.la \
	$(OVS_LIBADD) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)

# controller/libflows.la: the flow computation (flows.h).  A convenience
# library, so tetherd links it once wired in and the tests link it directly
# (with controller/eni.c, ovs-glue/flow-table.c and ovs-glue/flow-build.c,
# which it uses; tetherd lists libovsglue.la after it for the latter).
noinst_LTLIBRARIES += controller/libflows.la
controller_libflows_la_SOURCES = \
	controller/flows.c controller/flows.h \
	controller/flows-ctx.c controller/flows-private.h \
	controller/flows-sg.c
controller_libflows_la_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)

# controller/libadmission.la: migration admission, pure (admission.h: the
# placement rule engine; cpu-features.h: CPU feature sets across hosts).
# A convenience library, so tetherd, the unit tests and bench/ link it.
noinst_LTLIBRARIES += controller/libadmission.la
controller_libadmission_la_SOURCES = \
	controller/admission.c controller/admission.h \
	controller/admission-decide.c controller/admission-json.c \
	controller/admission-private.h \
	controller/cpu-features.c controller/cpu-features.h
controller_libadmission_la_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
controller_libadmission_la_LIBADD = lib/libtether.la
