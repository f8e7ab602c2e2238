# scripts/: bootstrap (dependencies, libopenvswitch), the README's demo and
# test commands.
EXTRA_DIST += scripts/bootstrap.sh scripts/demo.sh scripts/demo-sandbox.sh \
	scripts/test.sh
