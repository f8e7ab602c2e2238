# ctl/: tetherctl, the operator's command-line client of the REST API.  It
# uses libopenvswitch for JSON only; its HTTP client is its own (blocking,
# one request per run), so it needs no libevent.
bin_PROGRAMS += ctl/tetherctl
ctl_tetherctl_SOURCES = \
	ctl/tetherctl.c ctl/tetherctl.h \
	ctl/common.c \
	ctl/http-client.c ctl/http-client.h \
	ctl/output.c ctl/output.h \
	ctl/cmd-eni.c ctl/cmd-sg.c ctl/cmd-host.c ctl/cmd-admission.c
ctl_tetherctl_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
ctl_tetherctl_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) -latomic -lm
