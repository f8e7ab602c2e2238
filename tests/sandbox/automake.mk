# tests/sandbox: see tests/automake.mk
