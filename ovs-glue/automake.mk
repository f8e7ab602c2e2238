# ovs-glue/: where libopenvswitch (OpenFlow, OVSDB) meets libevent.
noinst_LTLIBRARIES += ovs-glue/libovsglue.la
ovs_glue_libovsglue_la_SOURCES = \
	ovs-glue/ovs-loop.c ovs-glue/ovs-loop.h \
	ovs-glue/tether-service.c ovs-glue/tether-service.h
ovs_glue_libovsglue_la_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
ovs_glue_libovsglue_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
ovs_glue_libovsglue_la_SOURCES += \
	ovs-glue/vif-monitor.c ovs-glue/vif-monitor.h \
	ovs-glue/bridge-setup.c ovs-glue/bridge-setup.h

# OpenFlow side: flow/group tables and their diff (flow-table), flows built
# in canonical form without text (flow-build), one switch's connection,
# reconciliation and bundles (of-switch), listeners and active connections
# (of-server).
ovs_glue_libovsglue_la_SOURCES += \
	ovs-glue/flow-table.c ovs-glue/flow-table.h \
	ovs-glue/flow-build.c ovs-glue/flow-build.h \
	ovs-glue/of-switch.c ovs-glue/of-switch.h \
	ovs-glue/of-server.c ovs-glue/of-server.h
