# tests/fuzz: see tests/automake.mk
