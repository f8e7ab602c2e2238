# scripts/: bootstrap (dependencies, libopenvswitch), the README's demo and
# test commands.
