# lib/: small pure helpers shared by everything above; depends on nothing
# but libc.
noinst_LTLIBRARIES += lib/libtether.la
lib_libtether_la_SOURCES = \
	lib/config-file.c lib/config-file.h \
	lib/validate.c lib/validate.h
