# proto/: the agent <-> controller protocol.  tether.proto is compiled by
# protoc-c at build time; wire.c frames and validates its messages.
noinst_LTLIBRARIES += proto/libtetherproto.la
nodist_proto_libtetherproto_la_SOURCES = proto/tether.pb-c.c proto/tether.pb-c.h
proto_libtetherproto_la_SOURCES = proto/wire.c proto/wire.h
proto_libtetherproto_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
EXTRA_DIST += proto/tether.proto
BUILT_SOURCES += proto/tether.pb-c.h proto/tether.pb-c.c
CLEANFILES += proto/tether.pb-c.c proto/tether.pb-c.h proto/tether.pb-c.stamp

proto/tether.pb-c.stamp: proto/tether.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(srcdir)/proto --c_out=proto $(srcdir)/proto/tether.proto && \
	touch $@
proto/tether.pb-c.c proto/tether.pb-c.h: proto/tether.pb-c.stamp
	@test -f $@ || { rm -f proto/tether.pb-c.stamp; $(MAKE) $(AM_MAKEFLAGS) proto/tether.pb-c.stamp; }

# The protocol's transport: framed messages on a libevent bufferevent.
noinst_LTLIBRARIES += proto/libtetherchannel.la
proto_libtetherchannel_la_SOURCES = proto/channel.c proto/channel.h \
	proto/tls.c proto/tls.h
nodist_proto_libtetherchannel_la_SOURCES = proto/tether.pb-c.h
proto_libtetherchannel_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(OPENSSL_CFLAGS)
$(proto_libtetherproto_la_OBJECTS) $(proto_libtetherchannel_la_OBJECTS): proto/tether.pb-c.h
