# tests/fuzz: see tests/automake.mk
#
# libFuzzer targets, built with `configure CC=clang --enable-fuzzing`.
# `make fuzz-run [FUZZ_SECONDS=N]` runs each one for a bounded time on a
# corpus in the build tree seeded from tests/fuzz/corpus/ and prints the
# number of executions.

FUZZ_SECONDS = 30
FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined

# proto/wire.c: framing and validation of received streams.  The modules
# under test are compiled into the target so that libFuzzer sees their
# coverage.
FUZZ_WIRE_SEEDS = \
	tests/fuzz/corpus/wire/seed-ack \
	tests/fuzz/corpus/wire/seed-bad-magic \
	tests/fuzz/corpus/wire/seed-command \
	tests/fuzz/corpus/wire/seed-error \
	tests/fuzz/corpus/wire/seed-heartbeat \
	tests/fuzz/corpus/wire/seed-hello \
	tests/fuzz/corpus/wire/seed-hello-reply \
	tests/fuzz/corpus/wire/seed-invalid-vif-mac \
	tests/fuzz/corpus/wire/seed-migration-event \
	tests/fuzz/corpus/wire/seed-resync \
	tests/fuzz/corpus/wire/seed-vif-event
EXTRA_DIST += $(FUZZ_WIRE_SEEDS)

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-wire
tests_fuzz_fuzz_wire_SOURCES = tests/fuzz/fuzz-wire.c \
	proto/wire.c proto/wire.h lib/validate.c lib/validate.h
nodist_tests_fuzz_fuzz_wire_SOURCES = proto/tether.pb-c.c proto/tether.pb-c.h
tests_fuzz_fuzz_wire_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(FUZZ_SANITIZE)
tests_fuzz_fuzz_wire_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_SANITIZE)
tests_fuzz_fuzz_wire_LDADD = $(PROTOBUF_C_LIBS)
CLEANFILES += tests/fuzz/fuzz-wire.log
$(tests_fuzz_fuzz_wire_OBJECTS): proto/tether.pb-c.h

fuzz-run: tests/fuzz/fuzz-wire
	@$(MKDIR_P) tests/fuzz/corpus-wire tests/fuzz/artifacts
	@for seed in $(FUZZ_WIRE_SEEDS); do \
	  cp -f $(srcdir)/$$seed tests/fuzz/corpus-wire/ || exit 1; \
	done
	@echo "fuzz-wire: $(FUZZ_SECONDS) s on tests/fuzz/corpus-wire"
	@rc=0; \
	./tests/fuzz/fuzz-wire -max_total_time=$(FUZZ_SECONDS) \
	  -print_final_stats=1 -artifact_prefix=tests/fuzz/artifacts/ \
	  tests/fuzz/corpus-wire > tests/fuzz/fuzz-wire.log 2>&1 || rc=$$?; \
	if test $$rc != 0; then \
	  tail -n 60 tests/fuzz/fuzz-wire.log; \
	  echo "fuzz-wire failed (exit $$rc): see tests/fuzz/fuzz-wire.log and tests/fuzz/artifacts/" >&2; \
	  exit $$rc; \
	fi; \
	runs=`$(SED) -n 's/^stat::number_of_executed_units: *//p' tests/fuzz/fuzz-wire.log`; \
	test -n "$$runs" || { echo "fuzz-wire: no final stats in tests/fuzz/fuzz-wire.log" >&2; exit 1; }; \
	echo "fuzz_wire_execs: $$runs runs"
else
EXTRA_DIST += tests/fuzz/fuzz-wire.c

fuzz-run:
	@echo "fuzz-run: fuzzing is not configured (configure CC=clang --enable-fuzzing)" >&2; \
	exit 1
endif
.PHONY: fuzz-run
