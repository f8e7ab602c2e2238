/* One name per CPU feature.  Linux's /proc/cpuinfo and libvirt (its
 * cpu_map, the <feature name=.../> of CPU XML) name most x86 features
 * alike but not all: "sse4_2" / "sse4.2", "pclmulqdq" / "pclmuldq",
 * "sha_ni" / "sha-ni", "tsc_deadline_timer" / "tsc-deadline".  tether's
 * canonical name is the kernel's (what /proc/cpuinfo says; it is also all
 * the agent protocol allows: [a-z0-9_.]); libvirt's names are translated
 * at the boundary, when an agent reads libvirt's view of its host and
 * when tetherd reads or writes libvirt CPU XML.
 *
 * Pure: no allocation, no state.  Names that are the same in both
 * vocabularies (most of them) pass through unchanged. */
#ifndef LIB_CPU_NAMES_H
#define LIB_CPU_NAMES_H 1

#include <stdbool.h>
#include <stddef.h>

/* Longest feature name either side uses, without the '\0'. */
#define CPU_NAME_MAX 64

/* Stores in 'out' ('size' bytes) the canonical name of 'name', which may
 * be either libvirt's or the kernel's.  Returns false (and 'out' is "") if
 * 'name' is empty, longer than CPU_NAME_MAX, or has characters other than
 * [a-z0-9_.-]. */
bool cpu_name_canonical(const char *name, char *out, size_t size);

/* libvirt's name of canonical 'name': a string of a static table,
 * 'name' itself where the names agree, or (for libvirt's "vmx-*" family)
 * 'buf' ('size' bytes) with the name written into it. */
const char *cpu_name_libvirt(const char *name, char *buf, size_t size);

#endif /* lib/cpu-names.h */
