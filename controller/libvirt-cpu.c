/* libvirt's knowledge of x86 CPU models (see libvirt-cpu.h). */
#include <config.h>

#include "controller/libvirt-cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "coverage.h"
#include "lib/cpu-names.h"
#include "lib/cpu-xml.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(libvirt_cpu);

COVERAGE_DEFINE(libvirt_cpu_call);

/* Most models and names remembered (a client could make up any number of
 * model names; only libvirt's are kept, but bound it anyway). */
#define MAX_MODELS 1024
#define MAX_NAMES 4096

struct libvirt_cpu {
    char *uri;
    virConnectPtr conn;         /* NULL until opened */
    struct shash models;        /* model name -> struct sset of features */
    struct sset known, unknown; /* feature names libvirt does / does not
                                 * know */
};

/* libvirt prints every error on stderr unless told otherwise; tetherd
 * reports them itself. */
static void
quiet__(void *aux OVS_UNUSED, virErrorPtr err OVS_UNUSED)
{
}

struct libvirt_cpu *
libvirt_cpu_create(const char *uri)
{
    struct libvirt_cpu *lc = xzalloc(sizeof *lc);
    lc->uri = xstrdup(uri ? uri : "test:///default");
    shash_init(&lc->models);
    sset_init(&lc->known);
    sset_init(&lc->unknown);
    return lc;
}

void
libvirt_cpu_destroy(struct libvirt_cpu *lc)
{
    if (lc) {
        struct shash_node *n;
        SHASH_FOR_EACH (n, &lc->models) {
            sset_destroy(n->data);
            free(n->data);
        }
        shash_destroy(&lc->models);
        sset_destroy(&lc->known);
        sset_destroy(&lc->unknown);
        if (lc->conn) {
            virConnectClose(lc->conn);
        }
        free(lc->uri);
        free(lc);
    }
}

static const char *
last_error__(void)
{
    const char *msg = virGetLastErrorMessage();
    return msg && msg[0] ? msg : "unknown error";
}

/* Opens the connection if it is not.  Returns 0 or EAGAIN (with why in
 * '*errp'). */
static int
open__(struct libvirt_cpu *lc, char **errp)
{
    if (lc->conn) {
        return 0;
    }
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    virSetErrorFunc(NULL, quiet__);
    lc->conn = virConnectOpenReadOnly(lc->uri);
    if (!lc->conn) {
        char *msg = xasprintf("libvirt (%s) is unavailable: %s", lc->uri,
                              last_error__());
        VLOG_WARN_RL(&rl, "%s; CPU models cannot be expanded (VMs with a "
                     "custom CPU model are judged by their source host's "
                     "CPU) and baselines use the generic model", msg);
        *errp = msg;
        return EAGAIN;
    }
    VLOG_INFO("libvirt (%s) opened for CPU models", lc->uri);
    return 0;
}

/* Calls virConnectBaselineCPU() on the 'n' host CPU XML documents of
 * 'xmls' and parses its answer into 'cpu' (empty on failure).  Returns 0,
 * EAGAIN or EINVAL (libvirt refused them) with why in '*errp'. */
static int
baseline__(struct libvirt_cpu *lc, const char **xmls, unsigned int n,
           unsigned int flags, struct cpu_xml *cpu, char **errp)
{
    memset(cpu, 0, sizeof *cpu);
    int error = open__(lc, errp);
    if (error) {
        return error;
    }
    COVERAGE_INC(libvirt_cpu_call);
    char *answer = virConnectBaselineCPU(lc->conn, xmls, n, flags);
    if (!answer) {
        virErrorPtr e = virGetLastError();
        if (e && (e->code == VIR_ERR_SYSTEM_ERROR
                  || e->code == VIR_ERR_NO_CONNECT
                  || e->code == VIR_ERR_INVALID_CONN)) {
            *errp = xasprintf("libvirt (%s): %s", lc->uri, last_error__());
            virConnectClose(lc->conn);
            lc->conn = NULL;
            return EAGAIN;
        }
        *errp = xasprintf("libvirt: %s", last_error__());
        return EINVAL;
    }
    char *err = NULL;
    bool ok = cpu_xml_parse(answer, cpu, &err);
    free(answer);
    if (!ok) {
        *errp = xasprintf("libvirt's answer is unreadable: %s", err);
        free(err);
        return EINVAL;
    }
    return 0;
}

int
libvirt_cpu_model_flags(struct libvirt_cpu *lc, const char *model,
                        const struct sset **flagsp, char **errp)
{
    struct sset *flags = shash_find_data(&lc->models, model);
    if (flags) {
        *flagsp = flags;
        return 0;
    }

    struct cpu_xml host = { .model = CONST_CAST(char *, model) };
    char *xml = cpu_xml_format_host(&host, "x86_64");
    struct cpu_xml cpu;
    int error = baseline__(lc, (const char **) &xml, 1,
                           VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES, &cpu,
                           errp);
    free(xml);
    if (error) {
        return error;
    }
    flags = xmalloc(sizeof *flags);
    sset_init(flags);
    for (size_t i = 0; i < cpu.n_features; i++) {
        if (cpu.features[i].policy <= CPU_XML_OPTIONAL) {
            sset_add(flags, cpu.features[i].name);
        }
    }
    cpu_xml_destroy(&cpu);
    if (shash_count(&lc->models) >= MAX_MODELS) {
        *errp = xasprintf("more than %d CPU models", MAX_MODELS);
        sset_destroy(flags);
        free(flags);
        return EINVAL;
    }
    shash_add(&lc->models, model, flags);
    *flagsp = flags;
    return 0;
}

/* Does libvirt know feature 'name' (canonical)?  Asked once per name: a
 * CPU of the smallest model with that feature is either accepted or
 * refused as having an unknown feature. */
static bool
known__(struct libvirt_cpu *lc, const char *name)
{
    if (sset_contains(&lc->known, name)) {
        return true;
    } else if (sset_contains(&lc->unknown, name)
               || sset_count(&lc->known) + sset_count(&lc->unknown)
                  >= MAX_NAMES) {
        return false;
    }
    struct cpu_xml_feature f = { .policy = CPU_XML_REQUIRE };
    ovs_strlcpy(f.name, name, sizeof f.name);
    struct cpu_xml host = { .model = CONST_CAST(char *, "486"),
                            .features = &f, .n_features = 1 };
    char *xml = cpu_xml_format_host(&host, "x86_64");
    struct cpu_xml cpu;
    char *err = NULL;
    int error = baseline__(lc, (const char **) &xml, 1, 0, &cpu, &err);
    free(xml);
    free(err);
    if (error == EAGAIN) {
        return false;           /* not known now, perhaps later */
    }
    cpu_xml_destroy(&cpu);
    sset_add(error ? &lc->unknown : &lc->known, name);
    return !error;
}

/* Appends "<feature policy='P' name='N'/>" for each of 'names' (sorted)
 * libvirt knows. */
static void
put_features__(struct libvirt_cpu *lc, const struct sset *names,
               const char *policy, struct ds *s)
{
    const char **sorted = sset_sort(names);
    for (size_t i = 0; sorted[i]; i++) {
        if (known__(lc, sorted[i])) {
            char buf[CPU_NAME_MAX + 1];
            ds_put_format(s, "  <feature policy='%s' name='%s'/>\n", policy,
                          cpu_name_libvirt(sorted[i], buf, sizeof buf));
        }
    }
    free(sorted);
}

int
libvirt_cpu_baseline_xml(struct libvirt_cpu *lc, const struct sset *common,
                         const struct sset *partial, struct ds *s,
                         char **errp)
{
    if (!sset_contains(common, "lm")) {
        *errp = xstrdup("the common features are not those of an x86-64 "
                        "CPU (no \"lm\")");
        return EINVAL;
    }

    /* libvirt picks the model for a set of CPUs only if they do not all
     * name the same one (otherwise it keeps theirs), and a host CPU needs a
     * model: so two CPUs with the common features, one on the smallest
     * model (486) and one on the next (pentium). */
    struct cpu_xml_feature *features = xcalloc(sset_count(common) + 1,
                                               sizeof *features);
    size_t n = 0;
    const char *name;
    SSET_FOR_EACH (name, common) {
        if (known__(lc, name)) {
            features[n].policy = CPU_XML_REQUIRE;
            ovs_strlcpy(features[n].name, name, sizeof features[n].name);
            n++;
        }
    }
    struct cpu_xml a = { .model = CONST_CAST(char *, "486"),
                         .features = features, .n_features = n };
    struct cpu_xml b = { .model = CONST_CAST(char *, "pentium"),
                         .features = features, .n_features = n };
    char *xmls[2] = { cpu_xml_format_host(&a, "x86_64"),
                      cpu_xml_format_host(&b, "x86_64") };
    struct cpu_xml answer;
    int error = baseline__(lc, (const char **) xmls, 2, 0, &answer, errp);
    free(xmls[0]);
    free(xmls[1]);
    free(features);
    if (error) {
        return error;
    }

    /* Only the model is libvirt's choice; the features are worked out
     * here, so that the element means exactly 'common'. */
    const struct sset *model_flags;
    error = (answer.model
             ? libvirt_cpu_model_flags(lc, answer.model, &model_flags, errp)
             : (*errp = xstrdup("libvirt named no model"), EINVAL));
    if (error) {
        cpu_xml_destroy(&answer);
        return error;
    }
    struct sset require = SSET_INITIALIZER(&require);
    struct sset disable = SSET_INITIALIZER(&disable);
    SSET_FOR_EACH (name, common) {
        if (!sset_contains(model_flags, name)) {
            sset_add(&require, name);
        }
    }
    SSET_FOR_EACH (name, model_flags) {
        if (!sset_contains(common, name)) {
            sset_add(&disable, name);
        }
    }
    SSET_FOR_EACH (name, partial) {
        sset_add(&disable, name);
    }
    ds_put_cstr(s, "<cpu mode='custom' match='exact' check='partial'>\n");
    ds_put_format(s, "  <model fallback='forbid'>%s</model>\n",
                  answer.model);
    put_features__(lc, &require, "require", s);
    put_features__(lc, &disable, "disable", s);
    ds_put_cstr(s, "</cpu>\n");
    sset_destroy(&require);
    sset_destroy(&disable);
    cpu_xml_destroy(&answer);
    return 0;
}
