/* tetherctl's "sg" commands: list, show, create (with rules) and delete
 * security groups through /v1/security-groups. */
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

static void
sg_table(const struct json *j)
{
    static const char *const titles[] = { "ID", "NAME", "DESCRIPTION" };
    static const char *const fields[] = { "id", "name", "description" };
    print_table(get(j, "security_groups"), titles, fields,
                ARRAY_SIZE(fields));
}

static void
sg_detail(const struct json *j)
{
    static const char *const order[] = { "id", "name", "description" };
    static const char *const titles[] = {
        "DIRECTION", "ETHERTYPE", "PROTOCOL", "PORT_MIN", "PORT_MAX",
        "REMOTE_CIDR", "REMOTE_GROUP",
    };
    static const char *const fields[] = {
        "direction", "ethertype", "protocol", "port_min", "port_max",
        "remote_cidr", "remote_group",
    };
    print_object(j, order, ARRAY_SIZE(order));
    printf("\n");
    print_table(get(j, "rules"), titles, fields, ARRAY_SIZE(fields));
}

/* Parses "DIRECTION,PROTOCOL,PORT_MIN,PORT_MAX,REMOTE[,ETHERTYPE]": REMOTE
 * is a CIDR (with '/') or a security group id; empty ports mean any. */
static struct json *
parse_rule(const char *spec)
{
    char *copy = xstrdup(spec);
    char *f[7];
    size_t n = 0;
    char *p = copy;
    for (;;) {
        if (n == ARRAY_SIZE(f)) {
            usage_error("--rule: \"%s\" has too many fields", spec);
        }
        f[n++] = p;
        p = strchr(p, ',');
        if (!p) {
            break;
        }
        *p++ = '\0';
    }
    if (n != 5 && n != 6) {
        usage_error("--rule: \"%s\" is not DIRECTION,PROTOCOL,PORT_MIN,"
                    "PORT_MAX,REMOTE[,ETHERTYPE]", spec);
    }

    struct json *r = json_object_create();
    json_object_put_string(r, "direction", f[0]);
    if (f[1][0] && strspn(f[1], "0123456789") == strlen(f[1])) {
        json_object_put(r, "protocol", json_integer_create(
                            parse_int("--rule protocol", f[1], 0, 255)));
    } else {
        json_object_put_string(r, "protocol", f[1][0] ? f[1] : "any");
    }
    if (f[2][0]) {
        json_object_put(r, "port_min", json_integer_create(
                            parse_int("--rule port_min", f[2], 0, 65535)));
    }
    if (f[3][0]) {
        json_object_put(r, "port_max", json_integer_create(
                            parse_int("--rule port_max", f[3], 0, 65535)));
    }
    bool cidr = strchr(f[4], '/') != NULL;
    json_object_put_string(r, cidr ? "remote_cidr" : "remote_group", f[4]);
    if (n == 6) {
        json_object_put_string(r, "ethertype", f[5]);
    } else if (cidr) {
        json_object_put_string(r, "ethertype",
                               strchr(f[4], ':') ? "IPv6" : "IPv4");
    }
    free(copy);
    return r;
}

int
cmd_sg(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    char *path;
    int status;

    if (!sub) {
        usage_error("sg: missing subcommand (list, show, create, delete)");
    } else if (!strcmp(sub, "list")) {
        need_args(argc, argv, 0, "sg list");
        return output(ctl, call(ctl, "GET", "/v1/security-groups", NULL),
                      sg_table);
    } else if (!strcmp(sub, "show")) {
        need_args(argc, argv, 1, "sg show ID");
        path = path_for("security-groups", argv[optind], NULL);
        status = output(ctl, call(ctl, "GET", path, NULL), sg_detail);
    } else if (!strcmp(sub, "create")) {
        enum { OPT_ID = UCHAR_MAX + 1, OPT_NAME, OPT_DESC, OPT_RULE,
               OPT_REPLACE };
        static const struct option opts[] = {
            {"id", required_argument, NULL, OPT_ID},
            {"name", required_argument, NULL, OPT_NAME},
            {"description", required_argument, NULL, OPT_DESC},
            {"rule", required_argument, NULL, OPT_RULE},
            {"replace", no_argument, NULL, OPT_REPLACE},
            {NULL, 0, NULL, 0},
        };
        struct json *body = json_object_create();
        struct json *rules = json_array_create_empty();
        bool replace = false;
        for (;;) {
            int c = getopt_long(argc, argv, "+", opts, NULL);
            if (c == -1) {
                break;
            }
            switch (c) {
            case OPT_ID:
                json_object_put_string(body, "id", optarg);
                break;
            case OPT_NAME:
                json_object_put_string(body, "name", optarg);
                break;
            case OPT_DESC:
                json_object_put_string(body, "description", optarg);
                break;
            case OPT_RULE:
                json_array_add(rules, parse_rule(optarg));
                break;
            case OPT_REPLACE:
                replace = true;
                break;
            default:
                exit(EXIT_USAGE);
            }
        }
        need_args(argc, argv, 0, "sg create [OPTIONS]");
        json_object_put(body, "rules", rules);
        if (replace) {
            const struct json *id = get(body, "id");
            if (!id) {
                usage_error("sg create --replace: needs --id");
            }
            path = path_for("security-groups", json_string(id), NULL);
            status = output(ctl, call(ctl, "PUT", path, body), sg_detail);
        } else {
            return output(ctl, call(ctl, "POST", "/v1/security-groups", body),
                          sg_detail);
        }
    } else if (!strcmp(sub, "delete")) {
        need_args(argc, argv, 1, "sg delete ID");
        path = path_for("security-groups", argv[optind], NULL);
        status = output(ctl, call(ctl, "DELETE", path, NULL), sg_detail);
    } else {
        usage_error("sg %s: unknown subcommand (try --help)", sub);
    }
    free(path);
    return status;
}
