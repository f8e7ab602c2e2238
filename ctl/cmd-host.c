/* tetherctl's commands on hosts, migrations and metrics: "host list|show",
 * "migration list|watch" and "metrics" (the Prometheus text as it comes). */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "timeval.h"
#include "util.h"

#include "ctl/http-client.h"
#include "ctl/output.h"
#include "ctl/tetherctl.h"

static void
host_table(const struct json *j)
{
    static const char *const titles[] = {
        "ID", "CONNECTED", "HYPERVISOR", "TUNNEL_IP", "BRIDGE",
        "LAST_HEARD_MS_AGO",
    };
    static const char *const fields[] = {
        "id", "connected", "hypervisor", "tunnel_ip", "bridge",
        "last_heard_ms_ago",
    };
    print_table(get(j, "hosts"), titles, fields, ARRAY_SIZE(fields));
}

static void
host_detail(const struct json *j)
{
    print_object(j, NULL, 0);
}

static void
migration_table(const struct json *j)
{
    static const char *const titles[] = {
        "ENI", "PHASE", "SOURCE", "DESTINATION", "EPOCH",
    };
    static const char *const fields[] = {
        "eni", "phase", "source_host", "dest_host", "epoch",
    };
    print_table(get(j, "migrations"), titles, fields, ARRAY_SIZE(fields));
}

int
cmd_host(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;

    if (sub && !strcmp(sub, "list")) {
        need_args(argc, argv, 0, "host list");
        return output(ctl, call(ctl, "GET", "/v1/hosts", NULL), host_table);
    } else if (sub && !strcmp(sub, "show")) {
        need_args(argc, argv, 1, "host show ID");
        char *path = path_for("hosts", argv[optind], NULL);
        int status = output(ctl, call(ctl, "GET", path, NULL), host_detail);
        free(path);
        return status;
    }
    usage_error("host: expected \"list\" or \"show ID\"");
}

/* "migration watch": polls the migrations every 20 ms and prints one line
 * per phase change (a migration appearing, changing phase, or ending), with
 * the time since the watch began, until interrupted. */
OVS_NO_RETURN static void
migration_watch(const struct ctl *ctl)
{
    struct shash last = SHASH_INITIALIZER(&last);
    long long int start = time_msec();

    printf("%-9s %-24s %-12s %-12s %-12s %s\n", "MS", "ENI", "PHASE",
           "SOURCE", "DESTINATION", "EPOCH");
    for (;;) {
        struct json *j = call(ctl, "GET", "/v1/migrations", NULL);
        const struct json *list = get(j, "migrations");
        struct shash now = SHASH_INITIALIZER(&now);
        long long int t = time_msec() - start;
        size_t n = list && list->type == JSON_ARRAY ? json_array(list)->n : 0;

        for (size_t i = 0; i < n; i++) {
            const struct json *m = json_array(list)->elems[i];
            char *eni = cell(get(m, "eni"));
            char *phase = cell(get(m, "phase"));
            const char *prev = shash_find_data(&last, eni);
            if (!prev || strcmp(prev, phase)) {
                char *src = cell(get(m, "source_host"));
                char *dst = cell(get(m, "dest_host"));
                char *epoch = cell(get(m, "epoch"));
                printf("%-9lld %-24s %-12s %-12s %-12s %s\n", t, eni, phase,
                       src, dst, epoch);
                free(src);
                free(dst);
                free(epoch);
            }
            if (!shash_find(&now, eni)) {
                shash_add(&now, eni, phase);
            } else {
                free(phase);
            }
            free(eni);
        }
        struct shash_node *node;
        SHASH_FOR_EACH (node, &last) {
            if (!shash_find(&now, node->name)) {
                printf("%-9lld %-24s %s\n", t, node->name, "ended");
            }
        }
        fflush(stdout);
        shash_destroy_free_data(&last);
        shash_swap(&last, &now);
        shash_destroy(&now);
        json_destroy(j);
        xnanosleep(20 * 1000 * 1000);
    }
}

int
cmd_migration(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    if (sub && !strcmp(sub, "watch")) {
        need_args(argc, argv, 0, "migration watch");
        migration_watch(ctl);
    }
    if (!sub || strcmp(sub, "list")) {
        usage_error("migration: expected \"list\" or \"watch\"");
    }
    need_args(argc, argv, 0, "migration list");
    return output(ctl, call(ctl, "GET", "/v1/migrations", NULL),
                  migration_table);
}

int
cmd_metrics(const struct ctl *ctl, int argc, char *argv[])
{
    need_args(argc, argv, 0, "metrics");
    struct response r = http_request(ctl, "GET", "/metrics", NULL);
    if (r.status >= 400) {
        fprintf(stderr, "%s: GET /metrics: %d: %s\n", program_name, r.status,
                r.body);
        free(r.body);
        return EXIT_REFUSED;
    }
    fputs(r.body, stdout);
    free(r.body);
    return EXIT_OK;
}
