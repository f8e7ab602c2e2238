/* libvirt's CPU XML, read and written: the <cpu> element of a domain
 * (a VM's CPU definition: mode, model, features with their policies), of
 * a host (capabilities' <host><cpu>: arch, model, vendor, features), and
 * what virConnectBaselineCPU() answers.  Feature names are stored in
 * tether's canonical spelling (lib/cpu-names.h) and written in libvirt's.
 *
 * Only what CPU compatibility needs is kept: topology, cache, NUMA, and
 * every other child or attribute is ignored.  Pure apart from libxml2 (no
 * network, no DTD, no entity expansion); no I/O, no logging.  Not here:
 * what a model contains (controller/libvirt-cpu.h asks libvirt). */
#ifndef LIB_CPU_XML_H
#define LIB_CPU_XML_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/cpu-names.h"

/* Largest document accepted, most features in one <cpu>, longest model
 * or vendor name. */
#define CPU_XML_MAX_LEN 65536
#define CPU_XML_MAX_FEATURES 1024
#define CPU_XML_MAX_MODEL 64

enum cpu_xml_mode {
    CPU_XML_CUSTOM,             /* a named model and features (default) */
    CPU_XML_HOST_MODEL,         /* the host's CPU, as a model */
    CPU_XML_HOST_PASSTHROUGH,   /* the host's CPU as it is */
    CPU_XML_MAXIMUM,            /* everything the hypervisor can give */
};

enum cpu_xml_policy {
    CPU_XML_FORCE,              /* given to the VM */
    CPU_XML_REQUIRE,            /* given; the host must have it */
    CPU_XML_OPTIONAL,           /* given if the host has it */
    CPU_XML_DISABLE,            /* not given */
    CPU_XML_FORBID,             /* not given; the host must not have it */
};

struct cpu_xml_feature {
    char name[CPU_NAME_MAX + 1];        /* canonical */
    enum cpu_xml_policy policy;
};

struct cpu_xml {
    enum cpu_xml_mode mode;
    char *model;                /* NULL: none */
    char *vendor;               /* NULL: none */
    char *arch;                 /* NULL: none (host CPUs have one) */
    struct cpu_xml_feature *features;   /* in document order */
    size_t n_features;
};

const char *cpu_xml_mode_to_string(enum cpu_xml_mode);
const char *cpu_xml_policy_to_string(enum cpu_xml_policy);

/* Parses 'xml' (a document whose root is <cpu>) into 'cpu'.  A feature
 * without a policy is "require" (a host CPU's features have none).
 * Returns true, or false with a malloc()ed one-line reason in '*errp'
 * ('cpu' then empty but valid): malformed XML, another root, an unknown
 * mode or policy, a bad or duplicate feature name, a model or vendor that
 * is not [A-Za-z0-9._-]{1,64}, too long or too many features. */
bool cpu_xml_parse(const char *xml, struct cpu_xml *cpu, char **errp);

/* Parses the <host><cpu> of libvirt capabilities XML 'caps' into 'cpu',
 * as cpu_xml_parse() does (mode CPU_XML_HOST_PASSTHROUGH: it is the host
 * itself). */
bool cpu_xml_parse_capabilities(const char *caps, struct cpu_xml *cpu,
                                char **errp);

void cpu_xml_destroy(struct cpu_xml *);

/* 'cpu' as a domain's <cpu> element (malloc()ed): mode, for a custom CPU
 * match='exact', the model with fallback='forbid', the vendor and every
 * feature with its policy, in libvirt's names.  The normalized form the
 * API stores and shows. */
char *cpu_xml_format(const struct cpu_xml *cpu);

/* 'cpu' as a host's <cpu> (arch, model, vendor, features without policy:
 * those whose policy is force, require or optional), the form
 * virConnectBaselineCPU() takes.  'arch' NULL: "x86_64" unless 'cpu' has
 * one. */
char *cpu_xml_format_host(const struct cpu_xml *cpu, const char *arch);

#endif /* lib/cpu-xml.h */
