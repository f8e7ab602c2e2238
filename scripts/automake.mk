# scripts/: bootstrap (dependencies, libopenvswitch), the README's demo and
# test commands.
EXTRA_DIST += scripts/bootstrap.sh scripts/demo.sh scripts/test.sh
