dnl tether's configure macros: dependency checks that name the Debian
dnl package to install, libopenvswitch from an OVS build tree, and the
dnl build switches (sanitizers, -Werror, fuzzing).

dnl TETHER_PKG(VAR, MODULES, DEBIAN-PACKAGE)
AC_DEFUN([TETHER_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install the Debian package $3])])
])

dnl TETHER_CHECK_OVS: libopenvswitch is built from Debian's
dnl openvswitch-source (scripts/bootstrap does it); configure is told where
dnl its source and build trees are, as OVN's configure is.
AC_DEFUN([TETHER_CHECK_OVS], [
  AC_ARG_WITH([ovs-source],
    [AS_HELP_STRING([--with-ovs-source=DIR], [Open vSwitch source tree])],
    [OVS_SRCDIR=$withval], [OVS_SRCDIR=$srcdir/.ovs/openvswitch])
  AC_ARG_WITH([ovs-build],
    [AS_HELP_STRING([--with-ovs-build=DIR], [Open vSwitch build tree (default: the source tree)])],
    [OVS_BUILDDIR=$withval], [OVS_BUILDDIR=$OVS_SRCDIR])
  AC_MSG_CHECKING([for the Open vSwitch source tree])
  AS_IF([test -f "$OVS_SRCDIR/include/openvswitch/version.h" || test -f "$OVS_SRCDIR/include/openvswitch/version.h.in"],
        [OVS_SRCDIR=`cd "$OVS_SRCDIR" && pwd`; AC_MSG_RESULT([$OVS_SRCDIR])],
        [AC_MSG_RESULT([no])
         AC_MSG_ERROR([no Open vSwitch source in '$OVS_SRCDIR': install the Debian package openvswitch-source and run scripts/bootstrap, or pass --with-ovs-source])])
  AC_MSG_CHECKING([for libopenvswitch in the Open vSwitch build tree])
  AS_IF([test -f "$OVS_BUILDDIR/lib/libopenvswitch.la" && test -f "$OVS_BUILDDIR/lib/vswitch-idl.h"],
        [OVS_BUILDDIR=`cd "$OVS_BUILDDIR" && pwd`; AC_MSG_RESULT([$OVS_BUILDDIR])],
        [AC_MSG_RESULT([no])
         AC_MSG_ERROR([no built libopenvswitch in '$OVS_BUILDDIR': run scripts/bootstrap (it builds it from the Debian package openvswitch-source), or pass --with-ovs-build])])
  OVS_CPPFLAGS="-isystem $OVS_BUILDDIR -isystem $OVS_BUILDDIR/include -isystem $OVS_BUILDDIR/lib -isystem $OVS_SRCDIR/include -isystem $OVS_SRCDIR/lib"
  OVS_LIBADD="$OVS_BUILDDIR/lib/libopenvswitch.la"
  AC_SUBST([OVS_SRCDIR])
  AC_SUBST([OVS_BUILDDIR])
  AC_SUBST([OVS_CPPFLAGS])
  AC_SUBST([OVS_LIBADD])
])

dnl TETHER_CHECK_OVS_TOOLS: the daemons the sandbox tests start.
AC_DEFUN([TETHER_CHECK_OVS_TOOLS], [
  AC_PATH_PROG([OVS_VSWITCHD], [ovs-vswitchd], [], [$PATH:/usr/sbin:/usr/lib/openvswitch-switch])
  AC_PATH_PROG([OVSDB_SERVER], [ovsdb-server], [], [$PATH:/usr/sbin])
  AS_IF([test -z "$OVS_VSWITCHD" || test -z "$OVSDB_SERVER"],
        [AC_MSG_WARN([ovs-vswitchd/ovsdb-server not found: the sandbox tests need the Debian package openvswitch-switch])])
])

AC_DEFUN([TETHER_ENABLE_SANITIZERS], [
  AC_ARG_ENABLE([asan], [AS_HELP_STRING([--enable-asan], [build with AddressSanitizer])],
    [], [enable_asan=no])
  AC_ARG_ENABLE([ubsan], [AS_HELP_STRING([--enable-ubsan], [build with UndefinedBehaviorSanitizer])],
    [], [enable_ubsan=no])
  SANITIZER_CFLAGS=
  AS_IF([test "$enable_asan" = yes],
        [SANITIZER_CFLAGS="$SANITIZER_CFLAGS -fsanitize=address -fno-omit-frame-pointer"])
  AS_IF([test "$enable_ubsan" = yes],
        [SANITIZER_CFLAGS="$SANITIZER_CFLAGS -fsanitize=undefined -fno-sanitize-recover=undefined"])
  AC_SUBST([SANITIZER_CFLAGS])
])

AC_DEFUN([TETHER_ENABLE_WERROR], [
  AC_ARG_ENABLE([Werror], [AS_HELP_STRING([--enable-Werror], [treat warnings as errors])],
    [], [enable_Werror=no])
  AS_IF([test "$enable_Werror" = yes], [WERROR_CFLAGS=-Werror], [WERROR_CFLAGS=])
  AC_SUBST([WERROR_CFLAGS])
])

dnl TETHER_ENABLE_FUZZING: libFuzzer targets need clang.
AC_DEFUN([TETHER_ENABLE_FUZZING], [
  AC_ARG_ENABLE([fuzzing], [AS_HELP_STRING([--enable-fuzzing], [build libFuzzer targets (needs CC=clang)])],
    [], [enable_fuzzing=no])
  AS_IF([test "$enable_fuzzing" = yes], [
    AC_MSG_CHECKING([whether $CC supports -fsanitize=fuzzer])
    save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -fsanitize=fuzzer"
    AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }
]])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([--enable-fuzzing needs clang with libFuzzer: install the Debian packages clang and libclang-rt-14-dev and configure with CC=clang])])
    CFLAGS=$save_CFLAGS])
  AM_CONDITIONAL([FUZZING], [test "$enable_fuzzing" = yes])
])

dnl TETHER_WARNINGS: the warnings tether's own code is held to.
AC_DEFUN([TETHER_WARNINGS], [
  WARNING_CFLAGS=
  for flag in -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter \
              -Wpointer-arith -Wformat -Wformat-security -Wshadow \
              -Wstrict-prototypes -Wold-style-definition \
              -Wmissing-prototypes -Wmissing-field-initializers; do
    AC_MSG_CHECKING([whether $CC accepts $flag])
    save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $flag"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); WARNING_CFLAGS="$WARNING_CFLAGS $flag"],
      [AC_MSG_RESULT([no])])
    CFLAGS=$save_CFLAGS
  done
  AC_SUBST([WARNING_CFLAGS])
])
