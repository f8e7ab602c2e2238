# tests/sandbox: see tests/automake.mk

# libsandbox: a private ovsdb-server + ovs-vswitchd per test (sandbox.h).
noinst_LTLIBRARIES += tests/sandbox/libsandbox.la
tests_sandbox_libsandbox_la_SOURCES = \
	tests/sandbox/sandbox.c tests/sandbox/sandbox.h
