/* The host's CPU as libvirt sees it (see libvirt-host.h). */
#include <config.h>

#include "hostagent/libvirt-host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "hostagent/cpuinfo.h"
#include "lib/cpu-xml.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(libvirt_host);

/* tether-agent reports libvirt's errors itself. */
static void
quiet__(void *aux OVS_UNUSED, virErrorPtr err OVS_UNUSED)
{
}

static const char *
last_error__(void)
{
    const char *msg = virGetLastErrorMessage();
    return msg && msg[0] ? msg : "unknown error";
}

/* Fills 'ci' from 'cpu': its model and the features it gives. */
static void
fill__(struct cpuinfo *ci, const struct cpu_xml *cpu)
{
    free(ci->model);
    ci->model = xstrdup(cpu->model ? cpu->model : "");
    for (size_t i = 0; i < cpu->n_features; i++) {
        if (cpu->features[i].policy <= CPU_XML_OPTIONAL) {
            ci->flags = xrealloc(ci->flags,
                                 (ci->n_flags + 1) * sizeof *ci->flags);
            ci->flags[ci->n_flags++] = xstrdup(cpu->features[i].name);
        }
    }
}

int
libvirt_host_cpu(const char *uri, struct cpuinfo *ci, char **errp)
{
    struct cpu_xml host, expanded;
    char *caps = NULL, *xml = NULL, *answer = NULL, *err = NULL;
    int error = 0;

    memset(ci, 0, sizeof *ci);
    ci->model = xstrdup("");
    memset(&host, 0, sizeof host);
    memset(&expanded, 0, sizeof expanded);

    virSetErrorFunc(NULL, quiet__);
    virConnectPtr conn = virConnectOpenReadOnly(uri);
    if (!conn) {
        *errp = xasprintf("libvirt (%s): %s", uri, last_error__());
        return ECONNREFUSED;
    }
    caps = virConnectGetCapabilities(conn);
    if (!caps) {
        *errp = xasprintf("libvirt (%s): capabilities: %s", uri,
                          last_error__());
        error = EPROTO;
        goto out;
    }
    if (!cpu_xml_parse_capabilities(caps, &host, &err)) {
        *errp = xasprintf("libvirt (%s): capabilities: %s", uri, err);
        error = EPROTO;
        goto out;
    }
    if (!host.model) {
        /* Nothing to expand (libvirt's test driver, some architectures):
         * the features it lists. */
        fill__(ci, &host);
        goto out;
    }
    xml = cpu_xml_format_host(&host, NULL);
    answer = virConnectBaselineCPU(conn, (const char **) &xml, 1,
                                   VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES);
    if (!answer) {
        *errp = xasprintf("libvirt (%s): expanding CPU model %s: %s", uri,
                          host.model, last_error__());
        error = EPROTO;
    } else if (!cpu_xml_parse(answer, &expanded, &err)) {
        *errp = xasprintf("libvirt (%s): expanded CPU: %s", uri, err);
        error = EPROTO;
    } else {
        /* The expansion names the model; the host's own name is kept. */
        free(expanded.model);
        expanded.model = xstrdup(host.model);
        fill__(ci, &expanded);
    }

out:
    if (error) {
        cpuinfo_destroy(ci);
        ci->model = xstrdup("");
    }
    free(err);
    free(answer);
    free(xml);
    free(caps);
    cpu_xml_destroy(&host);
    cpu_xml_destroy(&expanded);
    virConnectClose(conn);
    return error;
}
