# systemd/: service units, installed where Debian's openvswitch packages put
# theirs (configure --with-systemdsystemunitdir to change), with @sbindir@
# filled in.
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = systemd/tetherd.service systemd/tether-agent.service \
	systemd/tether-db.service
EXTRA_DIST += systemd/tetherd.service.in systemd/tether-agent.service.in \
	systemd/tether-db.service.in
CLEANFILES += systemd/tetherd.service systemd/tether-agent.service \
	systemd/tether-db.service

systemd/%.service: systemd/%.service.in
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
		$< > $@.tmp && mv $@.tmp $@
