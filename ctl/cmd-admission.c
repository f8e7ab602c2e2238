/* tetherctl's migration admission commands: failure domains, groups and
 * placement rules, host maintenance and limits, recommendations, evacuations
 * and the CPU baseline/check. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

#include "ctl/http-client.h"
#include "ctl/output.h"
#include "ctl/tetherctl.h"

/* The JSON array of the words 'argv[from..argc)' not starting with "--",
 * split at commas. */
static struct json *
words_json(int argc, char *argv[], int from)
{
    struct json *a = json_array_create_empty();
    for (int i = from; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            continue;
        }
        char *copy = xstrdup(argv[i]), *save = NULL;
        for (char *w = strtok_r(copy, ", ", &save); w;
             w = strtok_r(NULL, ", ", &save)) {
            json_array_add(a, json_string_create(w));
        }
        free(copy);
    }
    return a;
}

/* The value of "--NAME=VALUE" or "NAME=VALUE" among 'argv[from..argc)', or
 * NULL. */
static const char *
opt_value(int argc, char *argv[], int from, const char *name)
{
    size_t len = strlen(name);
    for (int i = from; i < argc; i++) {
        const char *a = argv[i] + (strncmp(argv[i], "--", 2) ? 0 : 2);
        if (!strncmp(a, name, len) && a[len] == '=') {
            return a + len + 1;
        }
    }
    return NULL;
}

static bool
has_flag(int argc, char *argv[], int from, const char *flag)
{
    for (int i = from; i < argc; i++) {
        if (!strcmp(argv[i], flag)) {
            return true;
        }
    }
    return false;
}

static void
items_table(const struct json *j)
{
    const struct json *items = get(j, "items");
    const struct json_array *a = (items && items->type == JSON_ARRAY
                                  ? json_array(items) : NULL);
    for (size_t i = 0; a && i < a->n; i++) {
        char *id = cell(get(a->elems[i], "id"));
        char *desc = cell(get(a->elems[i], "description"));
        char *hosts = cell(get(a->elems[i], "hosts"));
        char *members = cell(get(a->elems[i], "members"));
        printf("%-20s %s\n", id, strcmp(desc, "-") ? desc
               : strcmp(hosts, "-") ? hosts : members);
        free(id);
        free(desc);
        free(hosts);
        free(members);
    }
}

static void
object_detail(const struct json *j)
{
    print_object(j, NULL, 0);
}

/* domain|group|rule list|show|delete|set. */
int
cmd_admission_config(const struct ctl *ctl, const char *kind, int argc,
                     char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : "list";
    const char *id = argc > optind ? argv[optind] : NULL;
    char path[256];

    if (!strcmp(sub, "list")) {
        snprintf(path, sizeof path, "/v1/%ss", kind);
        return output(ctl, call(ctl, "GET", path, NULL), items_table);
    }
    if (!id) {
        usage_error("%s %s: missing ID", kind, sub);
    }
    snprintf(path, sizeof path, "/v1/%ss/%s", kind, id);
    if (!strcmp(sub, "show")) {
        return output(ctl, call(ctl, "GET", path, NULL), object_detail);
    } else if (!strcmp(sub, "delete")) {
        json_destroy(call(ctl, "DELETE", path, NULL));
        return EXIT_OK;
    } else if (strcmp(sub, "set")) {
        usage_error("%s: expected list, show, set or delete", kind);
    }

    struct json *body = json_object_create();
    int from = optind + 1;
    if (!strcmp(kind, "domain")) {
        const char *k = opt_value(argc, argv, from, "kind");
        if (k) {
            json_object_put_string(body, "kind", k);
        }
        json_object_put(body, "hosts", words_json(argc, argv, from));
    } else if (!strcmp(kind, "group")) {
        const char *bw = opt_value(argc, argv, from, "bandwidth");
        if (bw) {
            json_object_put(body, "bandwidth_mbps",
                            json_integer_create(atoll(bw)));
        }
        json_object_put(body, "members", words_json(argc, argv, from));
    } else {
        if (argc - from < 3) {
            usage_error("rule set ID must|should together|apart GROUP "
                        "[domain=D | scope=host|KIND] [weight=N]");
        }
        json_object_put_string(body, "strength", argv[from]);
        json_object_put_string(body, "type", argv[from + 1]);
        json_object_put_string(body, "group", argv[from + 2]);
        const char *names[] = { "domain", "scope" };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            const char *v = opt_value(argc, argv, from, names[i]);
            if (v) {
                json_object_put_string(body, names[i], v);
            }
        }
        const char *w = opt_value(argc, argv, from, "weight");
        if (w) {
            json_object_put(body, "weight", json_integer_create(atoll(w)));
        }
    }
    return output(ctl, call(ctl, "PUT", path, body), object_detail);
}

/* host maintenance ID on|off; host limits ID [max-enis=N] [bandwidth=N]. */
int
cmd_host_admission(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argv[optind++];
    if (argc - optind < 1) {
        usage_error("host %s: missing host ID", sub);
    }
    const char *id = argv[optind];
    char path[256];
    snprintf(path, sizeof path, "/v1/hosts/%s/limits", id);
    struct json *body = json_object_create();
    if (!strcmp(sub, "maintenance")) {
        if (argc - optind != 2 || (strcmp(argv[optind + 1], "on")
                                   && strcmp(argv[optind + 1], "off"))) {
            usage_error("host maintenance ID on|off");
        }
        json_object_put(body, "maintenance",
                        json_boolean_create(!strcmp(argv[optind + 1], "on")));
    } else {
        const char *m = opt_value(argc, argv, optind + 1, "max-enis");
        const char *b = opt_value(argc, argv, optind + 1, "bandwidth");
        if (m) {
            json_object_put(body, "max_enis", json_integer_create(atoll(m)));
        }
        if (b) {
            json_object_put(body, "bandwidth_mbps",
                            json_integer_create(atoll(b)));
        }
        if (!m && !b) {
            json_destroy(body);
            return output(ctl, call(ctl, "GET", path, NULL), object_detail);
        }
    }
    return output(ctl, call(ctl, "PUT", path, body), object_detail);
}

static void
recommend_table(const struct json *j)
{
    const struct json *c = get(j, "candidates");
    const struct json_array *a = (c && c->type == JSON_ARRAY
                                  ? json_array(c) : NULL);
    printf("%-16s %-8s %s\n", "HOST", "SCORE", "REFUSED BECAUSE");
    for (size_t i = 0; a && i < a->n; i++) {
        char *host = cell(get(a->elems[i], "host"));
        const struct json *s = get(a->elems[i], "score");
        char *reason = cell(get(a->elems[i], "reason"));
        printf("%-16s %-8.1f %s\n", host,
               s && s->type == JSON_REAL ? json_real(s)
               : s && s->type == JSON_INTEGER ? (double) json_integer(s) : 0,
               reason);
        free(host);
        free(reason);
    }
}

int
cmd_recommend(const struct ctl *ctl, int argc, char *argv[])
{
    need_args(argc, argv, 1, "recommend ENI");
    char path[256];
    snprintf(path, sizeof path, "/v1/enis/%s/recommend", argv[optind]);
    return output(ctl, call(ctl, "GET", path, NULL), recommend_table);
}

static void
plan_table(const struct json *j)
{
    const char *lists[] = { "moves", "unplaced" };
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        const struct json *m = get(j, lists[l]);
        const struct json_array *a = (m && m->type == JSON_ARRAY
                                      ? json_array(m) : NULL);
        for (size_t i = 0; a && i < a->n; i++) {
            char *unit = cell(get(a->elems[i], "unit"));
            char *enis = cell(get(a->elems[i], "enis"));
            char *dest = cell(get(a->elems[i], "dest_host"));
            char *reason = cell(get(a->elems[i], "reason"));
            printf("%-38s %-24s -> %s%s%s\n", unit, enis,
                   l ? "(unplaced)" : dest, l ? " " : "", l ? reason : "");
            free(unit);
            free(enis);
            free(dest);
            free(reason);
        }
    }
}

static void
evacuation_status_table(const struct json *j)
{
    char *host = cell(get(j, "host"));
    char *total = cell(get(j, "total"));
    char *done = cell(get(j, "done"));
    char *failed = cell(get(j, "failed"));
    printf("evacuation of %s: %s/%s moves done, %s failed\n", host, done,
           total, failed);
    free(host);
    free(total);
    free(done);
    free(failed);
    static const char *const titles[] = { "ENI", "UNIT", "DEST", "STATE" };
    static const char *const fields[] = { "eni", "unit", "dest_host",
                                          "state" };
    print_table(get(j, "moves"), titles, fields, ARRAY_SIZE(fields));
}

int
cmd_evacuate(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    need_args(argc, argv, 1, "evacuate plan|start|status HOST");
    char path[256];
    snprintf(path, sizeof path, "/v1/hosts/%s/evacuation%s", argv[optind],
             sub && !strcmp(sub, "status") ? "/status" : "");
    if (sub && !strcmp(sub, "plan")) {
        return output(ctl, call(ctl, "GET", path, NULL), plan_table);
    } else if (sub && !strcmp(sub, "start")) {
        return output(ctl, call(ctl, "POST", path, NULL), plan_table);
    } else if (sub && !strcmp(sub, "status")) {
        return output(ctl, call(ctl, "GET", path, NULL),
                      evacuation_status_table);
    }
    usage_error("evacuate: expected plan, start or status");
}

static void
baseline_text(const struct json *j)
{
    char *n = cell(get(j, "hosts"));
    char *f = cell(get(j, "features"));
    char *p = cell(get(j, "partial"));
    printf("hosts:    %s\nfeatures: %s\npartial:  %s\n", n, f, p);
    free(n);
    free(f);
    free(p);
}

static void
libvirt_xml_text(const struct json *j)
{
    const struct json *x = get(j, "libvirt_xml");
    fputs(x && x->type == JSON_STRING ? json_string(x) : "", stdout);
}

static void
cpu_check_text(const struct json *j)
{
    const struct json *ok = get(j, "compatible");
    char *missing = cell(get(j, "missing"));
    printf("%s%s%s\n", ok && ok->type == JSON_TRUE ? "compatible"
           : "incompatible", ok && ok->type == JSON_TRUE ? "" : ": missing ",
           ok && ok->type == JSON_TRUE ? "" : missing);
    free(missing);
}

/* cpu baseline [DOMAIN] [--libvirt-xml]; cpu check VM_CPU HOST
 * [--source=ID], with VM_CPU comma-separated flags, host:ID for "a VM
 * started on ID", or xml:FILE for a VM with that libvirt <cpu> definition
 * (started on --source, if its CPU depends on its host). */
int
cmd_cpu(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    if (sub && !strcmp(sub, "baseline")) {
        bool xml = has_flag(argc, argv, optind, "--libvirt-xml");
        const char *domain = (argc > optind && strcmp(argv[optind],
                                                      "--libvirt-xml")
                              ? argv[optind] : NULL);
        char path[256];
        snprintf(path, sizeof path, "/v1/cpu/baseline%s%s",
                 domain ? "/" : "", domain ? domain : "");
        return output(ctl, call(ctl, "GET", path, NULL),
                      xml ? libvirt_xml_text : baseline_text);
    } else if (sub && !strcmp(sub, "check")) {
        static const char syntax[]
            = "cpu check FLAG,...|host:ID|xml:FILE HOST [--source=ID]";
        const char *source = opt_value(argc, argv, optind, "source");
        const char *ops[2];
        int n_ops = 0;
        for (int i = optind; i < argc; i++) {
            if (strncmp(argv[i], "--source=", 9)) {
                if (n_ops >= 2) {
                    usage_error("too many arguments: expected %s", syntax);
                }
                ops[n_ops++] = argv[i];
            }
        }
        if (n_ops != 2) {
            usage_error("missing arguments: expected %s", syntax);
        }
        struct json *body = json_object_create();
        if (!strncmp(ops[0], "host:", 5)) {
            if (source) {
                usage_error("cpu check host:ID: --source is ID");
            }
            json_object_put_string(body, "source_host", ops[0] + 5);
        } else if (!strncmp(ops[0], "xml:", 4)) {
            json_object_put(body, "cpu_xml", json_string_create_nocopy(
                                read_file("xml:", ops[0] + 4)));
            if (source) {
                json_object_put_string(body, "source_host", source);
            }
        } else {
            if (source) {
                usage_error("cpu check FLAG,...: no --source");
            }
            char *flags[] = { CONST_CAST(char *, ops[0]) };
            json_object_put(body, "flags", words_json(1, flags, 0));
        }
        json_object_put_string(body, "host", ops[1]);
        struct json *j = call(ctl, "POST", "/v1/cpu/check", body);
        const struct json *ok = get(j, "compatible");
        bool compatible = ok && ok->type == JSON_TRUE;
        output(ctl, j, cpu_check_text);
        return compatible ? EXIT_OK : EXIT_REFUSED;
    }
    usage_error("cpu: expected baseline or check");
}
