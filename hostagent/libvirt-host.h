/* The host's CPU as libvirt sees it, for tether-agent --libvirt=URI: the
 * host CPU of libvirt's capabilities (virConnectGetCapabilities()),
 * expanded into every feature of its model (virConnectBaselineCPU() with
 * VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES).  That is what a VM on this
 * host can be given, which /proc/cpuinfo only approximates: libvirt's
 * model name and features in tether's canonical names (lib/cpu-names.h).
 *
 * One blocking exchange with libvirt at start-up; the parsing is
 * lib/cpu-xml.h's. */
#ifndef HOSTAGENT_LIBVIRT_HOST_H
#define HOSTAGENT_LIBVIRT_HOST_H 1

struct cpuinfo;

/* Asks libvirt at 'uri' (e.g. "qemu:///system") for the host's CPU and
 * stores its model ("" if libvirt names none) and features in 'ci'.
 * Returns 0, or a positive errno value with a malloc()ed reason in '*errp'
 * ('ci' then empty but valid): libvirt unreachable, no host CPU in its
 * capabilities, an answer that cannot be read. */
int libvirt_host_cpu(const char *uri, struct cpuinfo *ci, char **errp);

#endif /* hostagent/libvirt-host.h */
