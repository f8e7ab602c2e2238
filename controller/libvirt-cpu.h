/* libvirt's knowledge of x86 CPU models, for tetherd: the features of a
 * named model (to know what a VM with a custom CPU definition may use),
 * which feature names libvirt knows, and the model libvirt names for a
 * feature set (the CPU baseline as libvirt CPU XML).
 *
 * Asked through libvirt's test driver by default ("test:///default"): it
 * runs in this process, needs no daemon and does libvirt's real CPU model
 * arithmetic from its cpu_map.  Calls block, but briefly (well under a
 * millisecond each once libvirt has loaded its map, the first call takes a
 * few tens of ms), and every answer is cached: models and feature names
 * are fixed by the installed libvirt.  If libvirt cannot be used, calls
 * fail with EAGAIN and a reason (logged, rate-limited) and the caller
 * falls back; the connection is tried again on the next call.
 *
 * Feature names in and out are tether's canonical ones (lib/cpu-names.h).
 * Not here: what hosts have (cpu-features.h), what VMs want (placement.c).
 */
#ifndef CONTROLLER_LIBVIRT_CPU_H
#define CONTROLLER_LIBVIRT_CPU_H 1

struct ds;
struct sset;

/* 'uri' NULL: "test:///default".  Nothing is opened until the first
 * call. */
struct libvirt_cpu *libvirt_cpu_create(const char *uri);
void libvirt_cpu_destroy(struct libvirt_cpu *);

/* Stores in '*flagsp' the features of x86 CPU model 'model' as libvirt
 * expands it (owned by 'lc', valid until it is destroyed).  Returns 0,
 * EINVAL if libvirt refuses the model (unknown to it: the reason in
 * '*errp', malloc()ed), or EAGAIN if libvirt is unavailable (likewise). */
int libvirt_cpu_model_flags(struct libvirt_cpu *lc, const char *model,
                            const struct sset **flagsp, char **errp);

/* Appends to 's' a libvirt <cpu> element for a VM that must run on every
 * host with the features of 'common' and must not use those of 'partial'
 * (features only some hosts have): the model libvirt names for 'common',
 * the features of 'common' that model lacks (require), and those of the
 * model that 'common' lacks plus 'partial' (disable), each only if libvirt
 * knows its name.  Returns 0, or EAGAIN / EINVAL with a reason in '*errp'
 * if libvirt cannot name a model ('common' is not an x86-64 CPU: no "lm")
 * and 's' is unchanged. */
int libvirt_cpu_baseline_xml(struct libvirt_cpu *lc,
                             const struct sset *common,
                             const struct sset *partial, struct ds *s,
                             char **errp);

#endif /* controller/libvirt-cpu.h */
