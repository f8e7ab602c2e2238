# controller/: tetherd, the data-center controller.
sbin_PROGRAMS += controller/tetherd
controller_tetherd_SOURCES = \
	controller/agent-server.c controller/agent-server.h \
	controller/eni.c controller/eni.h \
	controller/host-registry.c controller/host-registry.h \
	controller/tetherd.c
controller_tetherd_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
controller_tetherd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS)
controller_tetherd_LDADD = ovs-glue/libovsglue.la proto/libtetherchannel.la \
	proto/libtetherproto.la lib/libtether.la \
	$(OVS_LIBADD) $(LIBEVENT_LIBS) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS)
$(controller_tetherd_OBJECTS): proto/tether.pb-c.h

# controller/librest.la: the REST API (rest.h) and the metrics registry
# (metrics.h).  A convenience library, so tetherd links it once wired in and
# the tests link it directly; the libraries after it come again because a
# static link resolves left to right.
noinst_LTLIBRARIES += controller/librest.la
controller_librest_la_SOURCES = \
	controller/metrics.c controller/metrics.h \
	controller/rest.h controller/rest-private.h \
	controller/rest-server.c controller/rest-json.c controller/rest-json.h \
	controller/rest-eni.c controller/rest-sg.c controller/rest-host.c
controller_librest_la_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
controller_librest_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
controller_tetherd_LDADD += controller/librest.la lib/libtether.la \
	$(OVS_LIBADD) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)

# controller/libflows.la: the flow computation (flows.h).  A convenience
# library, so tetherd links it once wired in and the tests link it directly
# (with controller/eni.c and ovs-glue/flow-table.c, which it uses).
noinst_LTLIBRARIES += controller/libflows.la
controller_libflows_la_SOURCES = \
	controller/flows.c controller/flows.h \
	controller/flows-ctx.c controller/flows-private.h \
	controller/flows-sg.c
controller_libflows_la_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
