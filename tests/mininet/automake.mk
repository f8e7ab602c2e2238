# tests/mininet: tether's network tests on Mininet (root; see README.md).
MININET_FILES = \
	tests/mininet/README.md \
	tests/mininet/capture.py \
	tests/mininet/check.py \
	tests/mininet/demo.py \
	tests/mininet/demo.sh \
	tests/mininet/hosttune.py \
	tests/mininet/plot.py \
	tests/mininet/probe.py \
	tests/mininet/run.sh \
	tests/mininet/tests.py \
	tests/mininet/tethernet.py \
	tests/mininet/vmnic.py
EXTRA_DIST += $(MININET_FILES)

# Every test in its own private pid, mount and network namespaces with a
# hard time limit (run.sh); the whole run is bounded too.  Prints TAP and
# "mininet: N passed, M failed"; fails if any test failed.
check-mininet: all
	TETHER_BUILD=$(abs_top_builddir) timeout -s INT -k 30 900 \
	  /usr/bin/python3 $(abs_top_srcdir)/tests/mininet/check.py $(MININET_TESTS)
.PHONY: check-mininet
