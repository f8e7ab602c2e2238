/* The host's CPU as tether-agent reports it to tetherd for migration
 * admission: the model name and feature flags of the first processor of a
 * /proc/cpuinfo-like file ("model name" and "flags" on x86, "Features" on
 * Arm).  Flags that are not [a-z0-9_.] are skipped; at most 1024 kept. */
#ifndef HOSTAGENT_CPUINFO_H
#define HOSTAGENT_CPUINFO_H 1

#include <stddef.h>

struct cpuinfo {
    char *model;                /* "" if the file names none */
    char **flags;
    size_t n_flags;
};

/* Reads 'path' into 'ci'.  Returns 0 or a positive errno value ('ci' is
 * then empty but valid). */
int cpuinfo_read(const char *path, struct cpuinfo *ci);
void cpuinfo_destroy(struct cpuinfo *);

#endif /* hostagent/cpuinfo.h */
