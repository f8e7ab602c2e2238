/* CPU compatibility across hosts: feature-set arithmetic (see
 * cpu-features.h). */
#include <config.h>

#include "controller/cpu-features.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cpu-names.h"
#include "lib/cpu-xml.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "sset.h"
#include "util.h"

struct cpu_host {
    char *model;
    struct sset flags;
};

struct cpu_features {
    struct shash hosts;         /* host id -> cpu_host */
};

struct cpu_features *
cpu_features_create(void)
{
    struct cpu_features *cf = xzalloc(sizeof *cf);
    shash_init(&cf->hosts);
    return cf;
}

static void
cpu_host_free__(struct cpu_host *h)
{
    if (h) {
        free(h->model);
        sset_destroy(&h->flags);
        free(h);
    }
}

void
cpu_features_destroy(struct cpu_features *cf)
{
    if (cf) {
        struct shash_node *n;
        SHASH_FOR_EACH (n, &cf->hosts) {
            cpu_host_free__(n->data);
        }
        shash_destroy(&cf->hosts);
        free(cf);
    }
}

void
cpu_features_set_host(struct cpu_features *cf, const char *host,
                      const char *model, char *const *flags, size_t n)
{
    cpu_features_remove_host(cf, host);
    if (!n) {
        return;
    }
    struct cpu_host *h = xzalloc(sizeof *h);
    h->model = xstrdup(model ? model : "");
    sset_init(&h->flags);
    for (size_t i = 0; i < n; i++) {
        char name[CPU_NAME_MAX + 1];
        if (cpu_name_canonical(flags[i], name, sizeof name)) {
            sset_add(&h->flags, name);
        }
    }
    shash_add(&cf->hosts, host, h);
}

void
cpu_features_remove_host(struct cpu_features *cf, const char *host)
{
    cpu_host_free__(shash_find_and_delete(&cf->hosts, host));
}

const char *
cpu_features_model(const struct cpu_features *cf, const char *host)
{
    const struct cpu_host *h = shash_find_data(&cf->hosts, host);
    return h ? h->model : NULL;
}

const struct sset *
cpu_features_flags(const struct cpu_features *cf, const char *host)
{
    const struct cpu_host *h = shash_find_data(&cf->hosts, host);
    return h ? &h->flags : NULL;
}

size_t
cpu_features_n_hosts(const struct cpu_features *cf)
{
    return shash_count(&cf->hosts);
}

static void
baseline_add__(const struct cpu_host *h, bool first, struct sset *common,
               struct sset *partial)
{
    const char *f, *next;
    if (first) {
        const char *name;
        SSET_FOR_EACH (name, &h->flags) {
            sset_add(common, name);
        }
        return;
    }
    SSET_FOR_EACH (f, &h->flags) {
        if (partial && !sset_contains(common, f)) {
            sset_add(partial, f);
        }
    }
    SSET_FOR_EACH_SAFE (f, next, common) {
        if (!sset_contains(&h->flags, f)) {
            if (partial) {
                sset_add(partial, f);
            }
            sset_delete(common, SSET_NODE_FROM_NAME(f));
        }
    }
}

size_t
cpu_features_baseline(const struct cpu_features *cf,
                      const char *const *hosts, size_t n_hosts,
                      struct sset *common, struct sset *partial)
{
    size_t n = 0;
    sset_clear(common);
    if (partial) {
        sset_clear(partial);
    }
    if (hosts) {
        for (size_t i = 0; i < n_hosts; i++) {
            const struct cpu_host *h = shash_find_data(&cf->hosts, hosts[i]);
            if (h) {
                baseline_add__(h, !n++, common, partial);
            }
        }
    } else {
        const struct shash_node *sn;
        SHASH_FOR_EACH (sn, &cf->hosts) {
            baseline_add__(sn->data, !n++, common, partial);
        }
    }
    return n;
}

bool
cpu_features_missing(const struct cpu_features *cf,
                     const struct sset *vm_flags, const char *host,
                     struct sset *missing)
{
    const struct cpu_host *h = shash_find_data(&cf->hosts, host);
    const char *f;

    sset_clear(missing);
    if (!h) {
        return false;
    }
    SSET_FOR_EACH (f, vm_flags) {
        if (!sset_contains(&h->flags, f)) {
            sset_add(missing, f);
        }
    }
    return true;
}

static void
add_all__(struct sset *dst, const struct sset *src)
{
    const char *name;
    SSET_FOR_EACH (name, src) {
        sset_add(dst, name);
    }
}

bool
cpu_features_vm_flags(const struct cpu_xml *def,
                      const struct sset *model_flags,
                      const struct sset *src_flags, struct sset *out)
{
    sset_clear(out);
    if (def->mode != CPU_XML_CUSTOM) {
        if (!src_flags) {
            return false;
        }
        add_all__(out, src_flags);
        return true;
    }
    if (model_flags) {
        add_all__(out, model_flags);
    }
    for (size_t i = 0; i < def->n_features; i++) {
        const struct cpu_xml_feature *f = &def->features[i];
        switch (f->policy) {
        case CPU_XML_FORCE:
        case CPU_XML_REQUIRE:
            sset_add(out, f->name);
            break;
        case CPU_XML_OPTIONAL:
            if (!src_flags || sset_contains(src_flags, f->name)) {
                sset_add(out, f->name);
            }
            break;
        case CPU_XML_DISABLE:
        case CPU_XML_FORBID:
            sset_find_and_delete(out, f->name);
            break;
        }
    }
    return true;
}

void
cpu_features_format(const struct sset *s, struct ds *out)
{
    const char **names = sset_sort(s);
    for (size_t i = 0; names[i]; i++) {
        ds_put_format(out, "%s%s", i ? " " : "", names[i]);
    }
    free(names);
}

static void
put_features__(const struct sset *s, const char *policy, struct ds *out)
{
    const char **names = s ? sset_sort(s) : NULL;
    for (size_t i = 0; names && names[i]; i++) {
        char buf[CPU_NAME_MAX + 1];
        ds_put_format(out, "  <feature policy='%s' name='%s'/>\n", policy,
                      cpu_name_libvirt(names[i], buf, sizeof buf));
    }
    free(names);
}

void
cpu_features_to_libvirt_xml(const char *model, const struct sset *require,
                            const struct sset *disable, struct ds *out)
{
    ds_put_cstr(out, "<cpu mode='custom' match='exact' check='partial'>\n");
    ds_put_format(out, "  <model fallback='forbid'>%s</model>\n",
                  model && model[0] ? model : "qemu64");
    put_features__(require, "require", out);
    put_features__(disable, "disable", out);
    ds_put_cstr(out, "</cpu>\n");
}
