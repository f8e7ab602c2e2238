# tests/unit: see tests/automake.mk

# ovs-glue/flow-table.c: desired vs installed diff, plan order, cookies.
check_PROGRAMS += tests/unit/test-flow-table
TESTS += tests/unit/test-flow-table
tests_unit_test_flow_table_SOURCES = tests/unit/test-flow-table.c \
	ovs-glue/flow-table.c ovs-glue/flow-table.h
tests_unit_test_flow_table_CPPFLAGS = $(AM_CPPFLAGS) $(OVS_CPPFLAGS)
tests_unit_test_flow_table_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_flow_table_LDADD = $(OVS_LIBADD) $(OPENSSL_LIBS) \
	$(CMOCKA_LIBS) -latomic -lm
