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
