# tests/unit: see tests/automake.mk
