# tests/: the unit tier (cmocka, pure modules) and the sandbox tier (real
# ovsdb-server/ovs-vswitchd in a temp dir, no root) both run in
# `make check`.  Every test program speaks TAP (cmocka is told to), so the
# summary counts test cases, not programs.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	OVS_VSWITCHD='$(OVS_VSWITCHD)'; export OVS_VSWITCHD; \
	OVSDB_SERVER='$(OVSDB_SERVER)'; export OVSDB_SERVER; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir;

include tests/unit/automake.mk
include tests/fuzz/automake.mk
include tests/sandbox/automake.mk
