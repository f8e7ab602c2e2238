# hostagent/: tether-agent, the per-hypervisor agent.
sbin_PROGRAMS += hostagent/tether-agent
hostagent_tether_agent_SOURCES = \
	hostagent/controller-conn.c hostagent/controller-conn.h \
	hostagent/cpuinfo.c hostagent/cpuinfo.h \
	hostagent/libvirt-events.c hostagent/libvirt-events.h \
	hostagent/libvirt-host.c hostagent/libvirt-host.h \
	hostagent/libvirt-loop.c hostagent/libvirt-loop.h \
	hostagent/libvirt-phase.c hostagent/libvirt-phase.h \
	hostagent/local-ovs.c hostagent/local-ovs.h \
	hostagent/qmp.c hostagent/qmp.h \
	hostagent/relay.c hostagent/relay.h \
	hostagent/vif-marker.c hostagent/vif-marker.h \
	hostagent/tether-agent.c
hostagent_tether_agent_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
hostagent_tether_agent_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBVIRT_CFLAGS) $(LIBXML2_CFLAGS)
hostagent_tether_agent_LDADD = ovs-glue/libovsglue.la proto/libtetherchannel.la \
	proto/libtetherproto.la lib/libcpuxml.la lib/libtether.la \
	$(OVS_LIBADD) $(LIBEVENT_LIBS) $(PROTOBUF_C_LIBS) $(OPENSSL_LIBS) \
	$(LIBVIRT_QEMU_LIBS) $(LIBVIRT_LIBS) $(LIBXML2_LIBS)
$(hostagent_tether_agent_OBJECTS): proto/tether.pb-c.h
