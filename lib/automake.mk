# lib/: small pure helpers shared by everything above; depends on nothing
# but libc.
noinst_LTLIBRARIES += lib/libtether.la
lib_libtether_la_SOURCES = \
	lib/config-file.c lib/config-file.h \
	lib/cpu-names.c lib/cpu-names.h \
	lib/validate.c lib/validate.h

# lib/libcpuxml.la: libvirt's CPU XML (cpu-xml.h), on libxml2 -- a library
# of its own so that lib/libtether.la stays libc-only.
noinst_LTLIBRARIES += lib/libcpuxml.la
lib_libcpuxml_la_SOURCES = lib/cpu-xml.c lib/cpu-xml.h
lib_libcpuxml_la_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
lib_libcpuxml_la_LIBADD = lib/libtether.la $(LIBXML2_LIBS)
