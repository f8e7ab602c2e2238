/* CPU compatibility across hosts: each host's CPU model and feature flags
 * (as its agent reports them from /proc/cpuinfo), the common feature set of
 * a set of hosts (the mask that makes them look alike to a VM), and
 * whether a VM that may use some features can run on a host.  Pure set
 * arithmetic: no I/O, no logging. */
#ifndef CONTROLLER_CPU_FEATURES_H
#define CONTROLLER_CPU_FEATURES_H 1

#include <stdbool.h>
#include <stddef.h>

struct cpu_xml;
struct ds;
struct sset;

/* Most flags a host may report, and longest flag. */
#define CPU_FEATURES_MAX_FLAGS 1024
#define CPU_FEATURES_MAX_FLAG_LEN 64

struct cpu_features *cpu_features_create(void);
void cpu_features_destroy(struct cpu_features *);

/* Records (replaces) what 'host' reported, in canonical names
 * (lib/cpu-names.h: "sse4.2" is kept as "sse4_2"; names that are none are
 * dropped).  A host that reported no flags is forgotten: its CPU is
 * unknown. */
void cpu_features_set_host(struct cpu_features *, const char *host,
                           const char *model, char *const *flags,
                           size_t n_flags);
void cpu_features_remove_host(struct cpu_features *, const char *host);
/* The model and flags 'host' reported, or NULL if unknown. */
const char *cpu_features_model(const struct cpu_features *, const char *host);
const struct sset *cpu_features_flags(const struct cpu_features *,
                                      const char *host);
size_t cpu_features_n_hosts(const struct cpu_features *);

/* Stores in 'common' (cleared first) the features every host of 'hosts'
 * (all known hosts if 'hosts' is NULL) has, and in 'partial' (if nonnull)
 * those only some have.  Hosts whose CPU is unknown are skipped; returns
 * the number of hosts counted (0: 'common' empty). */
size_t cpu_features_baseline(const struct cpu_features *,
                             const char *const *hosts, size_t n_hosts,
                             struct sset *common, struct sset *partial);

/* Stores in 'missing' (cleared first) the features of 'vm_flags' that
 * 'host' lacks.  Returns false if 'host''s CPU is unknown. */
bool cpu_features_missing(const struct cpu_features *,
                          const struct sset *vm_flags, const char *host,
                          struct sset *missing);

/* The features a VM whose CPU definition is 'def' may use, into 'out'
 * (cleared first), for the admission check of a move from a host with
 * 'src_flags' (NULL: unknown):
 *
 *   - host-passthrough, host-model, maximum: everything its host has, so
 *     'src_flags' (false if unknown);
 *   - custom: 'model_flags' (the features of its <model>, as libvirt
 *     expands it; NULL if none), plus the features it forces or requires,
 *     plus the optional ones the source host has (all of them if unknown),
 *     minus the ones it disables or forbids.
 *
 * Returns false if that cannot be known ('out' then empty). */
bool cpu_features_vm_flags(const struct cpu_xml *def,
                           const struct sset *model_flags,
                           const struct sset *src_flags, struct sset *out);

/* Appends to 's' the missing features, space-separated, sorted. */
void cpu_features_format(const struct sset *, struct ds *s);

/* Appends to 's' a libvirt <cpu> element that asks for 'model' (NULL: the
 * generic "qemu64") with every feature of 'require' and without every
 * feature of 'disable'.  Names are translated from tether's canonical
 * ones to libvirt's where they differ ("sse4_2" -> "sse4.2"). */
void cpu_features_to_libvirt_xml(const char *model,
                                 const struct sset *require,
                                 const struct sset *disable, struct ds *s);

#endif /* controller/cpu-features.h */
