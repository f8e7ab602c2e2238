/* The process-wide metrics registry and its Prometheus text rendering (see
 * metrics.h). */
#include <config.h>

#include "controller/metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "util.h"

enum metric_type {
    METRIC_COUNTER,
    METRIC_GAUGE,
    METRIC_HISTOGRAM,
};

/* One labelled series of a family. */
struct metric_series {
    double value;               /* counter, gauge; histogram: sum */
    unsigned long long count;   /* histogram only */
    unsigned long long *buckets;    /* histogram: per bucket, not cumulative */
};

struct metric_family {
    char *name;
    char *help;
    enum metric_type type;
    double *bounds;             /* histogram upper bounds */
    size_t n_bounds;
    struct shash series;        /* labels text ("" for none) -> series */
};

struct metric_collector {
    void (*cb)(void *aux);
    void *aux;
};

static struct shash families = SHASH_INITIALIZER(&families);
static struct metric_collector *collectors;
static size_t n_collectors;

static const double default_bounds[] = { METRICS_LATENCY_BUCKETS };

static bool
valid_name__(const char *name)
{
    if (!name || !(isalpha((unsigned char) *name) || *name == '_'
                   || *name == ':')) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char) *p) && *p != '_' && *p != ':') {
            return false;
        }
    }
    return true;
}

static struct metric_family *
family__(const char *name, const char *help, enum metric_type type)
{
    struct metric_family *f = shash_find_data(&families, name);
    if (f) {
        ovs_assert(f->type == type);
        if (help && !f->help[0]) {
            free(f->help);
            f->help = xstrdup(help);
        }
        return f;
    }
    ovs_assert(valid_name__(name));
    f = xzalloc(sizeof *f);
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->type = type;
    shash_init(&f->series);
    if (type == METRIC_HISTOGRAM) {
        f->n_bounds = ARRAY_SIZE(default_bounds);
        f->bounds = xmemdup(default_bounds, sizeof default_bounds);
    }
    shash_add(&families, name, f);
    return f;
}

static struct metric_series *
series__(struct metric_family *f, const char *labels)
{
    const char *key = labels ? labels : "";
    struct metric_series *s = shash_find_data(&f->series, key);
    if (!s) {
        s = xzalloc(sizeof *s);
        if (f->type == METRIC_HISTOGRAM) {
            s->buckets = xcalloc(f->n_bounds, sizeof *s->buckets);
        }
        shash_add(&f->series, key, s);
    }
    return s;
}

void
metrics_counter_add(const char *name, const char *help, const char *labels,
                    double value)
{
    struct metric_family *f = family__(name, help, METRIC_COUNTER);
    if (value > 0) {
        series__(f, labels)->value += value;
    } else {
        series__(f, labels);    /* make the series visible at 0 */
    }
}

void
metrics_gauge_set(const char *name, const char *help, const char *labels,
                  double value)
{
    series__(family__(name, help, METRIC_GAUGE), labels)->value = value;
}

void
metrics_gauge_add(const char *name, const char *help, const char *labels,
                  double delta)
{
    series__(family__(name, help, METRIC_GAUGE), labels)->value += delta;
}

void
metrics_histogram_define(const char *name, const char *help,
                         const double *buckets, size_t n)
{
    if (shash_find(&families, name)) {
        return;
    }
    struct metric_family *f = family__(name, help, METRIC_HISTOGRAM);
    for (size_t i = 1; i < n; i++) {
        ovs_assert(buckets[i - 1] < buckets[i]);
    }
    free(f->bounds);
    f->bounds = xmemdup(buckets, n * sizeof *buckets);
    f->n_bounds = n;
}

void
metrics_histogram_observe(const char *name, const char *help,
                          const char *labels, double value)
{
    struct metric_family *f = family__(name, help, METRIC_HISTOGRAM);
    struct metric_series *s = series__(f, labels);

    s->count++;
    s->value += value;
    for (size_t i = 0; i < f->n_bounds; i++) {
        if (value <= f->bounds[i]) {
            s->buckets[i]++;
            break;
        }
    }
}

void
metrics_register_collector(void (*cb)(void *aux), void *aux)
{
    collectors = xrealloc(collectors, (n_collectors + 1) * sizeof *collectors);
    collectors[n_collectors++] = (struct metric_collector) { cb, aux };
}

void
metrics_unregister_collector(void (*cb)(void *aux), void *aux)
{
    for (size_t i = 0; i < n_collectors; i++) {
        if (collectors[i].cb == cb && collectors[i].aux == aux) {
            collectors[i] = collectors[--n_collectors];
            return;
        }
    }
}

double
metrics_get(const char *name, const char *labels)
{
    struct metric_family *f = shash_find_data(&families, name);
    struct metric_series *s = (f ? shash_find_data(&f->series,
                                                   labels ? labels : "")
                               : NULL);
    return s ? s->value : 0;
}

void
metrics_escape_label(const char *value, struct ds *out)
{
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\': ds_put_cstr(out, "\\\\"); break;
        case '"': ds_put_cstr(out, "\\\""); break;
        case '\n': ds_put_cstr(out, "\\n"); break;
        default: ds_put_char(out, *p); break;
        }
    }
}

/* Appends 'v' the way Prometheus writes numbers. */
static void
put_value__(struct ds *out, double v)
{
    if (isinf(v)) {
        ds_put_cstr(out, v > 0 ? "+Inf" : "-Inf");
    } else if (isnan(v)) {
        ds_put_cstr(out, "NaN");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        ds_put_format(out, "%.0f", v);
    } else {
        /* The shortest text that reads back as 'v' (0.1, not
         * 0.10000000000000001). */
        char buf[32];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) {
                break;
            }
        }
        ds_put_cstr(out, buf);
    }
}

/* Appends "name{labels,extra}" (braces only if there is a label). */
static void
put_series_name__(struct ds *out, const char *name, const char *suffix,
                  const char *labels, const char *extra)
{
    ds_put_format(out, "%s%s", name, suffix);
    if (labels[0] || extra) {
        ds_put_format(out, "{%s%s%s}", labels,
                      labels[0] && extra ? "," : "", extra ? extra : "");
    }
    ds_put_char(out, ' ');
}

static void
put_help__(struct ds *out, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\') {
            ds_put_cstr(out, "\\\\");
        } else if (*p == '\n') {
            ds_put_cstr(out, "\\n");
        } else {
            ds_put_char(out, *p);
        }
    }
}

static void
render_family__(const struct metric_family *f, struct ds *out)
{
    static const char *const types[] = {
        [METRIC_COUNTER] = "counter",
        [METRIC_GAUGE] = "gauge",
        [METRIC_HISTOGRAM] = "histogram",
    };

    ds_put_format(out, "# HELP %s ", f->name);
    put_help__(out, f->help);
    ds_put_format(out, "\n# TYPE %s %s\n", f->name, types[f->type]);

    const struct shash_node **nodes = shash_sort(&f->series);
    for (size_t i = 0; i < shash_count(&f->series); i++) {
        const char *labels = nodes[i]->name;
        const struct metric_series *s = nodes[i]->data;

        if (f->type != METRIC_HISTOGRAM) {
            put_series_name__(out, f->name, "", labels, NULL);
            put_value__(out, s->value);
            ds_put_char(out, '\n');
            continue;
        }
        unsigned long long cum = 0;
        for (size_t b = 0; b <= f->n_bounds; b++) {
            struct ds le = DS_EMPTY_INITIALIZER;
            ds_put_cstr(&le, "le=\"");
            if (b < f->n_bounds) {
                cum += s->buckets[b];
                put_value__(&le, f->bounds[b]);
            } else {
                cum = s->count;
                ds_put_cstr(&le, "+Inf");
            }
            ds_put_char(&le, '"');
            put_series_name__(out, f->name, "_bucket", labels, ds_cstr(&le));
            ds_put_format(out, "%llu\n", cum);
            ds_destroy(&le);
        }
        put_series_name__(out, f->name, "_sum", labels, NULL);
        put_value__(out, s->value);
        ds_put_char(out, '\n');
        put_series_name__(out, f->name, "_count", labels, NULL);
        ds_put_format(out, "%llu\n", s->count);
    }
    free(nodes);
}

void
metrics_render(struct ds *out)
{
    for (size_t i = 0; i < n_collectors; i++) {
        collectors[i].cb(collectors[i].aux);
    }

    const struct shash_node **nodes = shash_sort(&families);
    for (size_t i = 0; i < shash_count(&families); i++) {
        render_family__(nodes[i]->data, out);
    }
    free(nodes);
}

void
metrics_clear(void)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &families) {
        struct metric_family *f = node->data;
        struct shash_node *sn;
        SHASH_FOR_EACH (sn, &f->series) {
            struct metric_series *s = sn->data;
            free(s->buckets);
            free(s);
        }
        shash_destroy(&f->series);
        free(f->bounds);
        free(f->help);
        free(f->name);
        free(f);
    }
    shash_clear(&families);
    free(collectors);
    collectors = NULL;
    n_collectors = 0;
}
