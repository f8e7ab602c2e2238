/* tetherctl's "eni" commands: list, show, create, update, delete, attach and
 * detach ENIs through /v1/enis. */
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
eni_table(const struct json *j)
{
    static const char *const titles[] = {
        "ID", "MAC", "IPV4", "VNI", "STATE", "HOST", "VM",
    };
    static const char *const fields[] = {
        "id", "mac", "primary_ipv4", "vni", "state", "host", "vm_uuid",
    };
    print_table(get(j, "enis"), titles, fields, ARRAY_SIZE(fields));
}

static void
eni_detail(const struct json *j)
{
    static const char *const order[] = {
        "id", "key", "mac", "primary_ipv4", "secondary_ipv4s", "ipv6s", "vni",
        "security_groups", "source_dest_check", "description", "vm_uuid",
        "cpu", "state", "host", "ofport", "epoch", "migration", "created", "updated",
    };
    print_object(j, order, ARRAY_SIZE(order));
}

static void
add_string(struct json *obj, const char *name, const char *value)
{
    struct json *a = shash_find_data(json_object(obj), name);
    if (!a) {
        a = json_array_create_empty();
        json_object_put(obj, name, a);
    }
    json_array_add(a, json_string_create(value));
}

/* Options of "eni create" and "eni update" into a request body. */
static struct json *
eni_body(int argc, char *argv[], bool create)
{
    enum { OPT_ID = UCHAR_MAX + 1, OPT_MAC, OPT_IP, OPT_IPV6, OPT_VNI,
           OPT_SG, OPT_DESC, OPT_SDC, OPT_VM, OPT_NO_SG, OPT_CPU_XML,
           OPT_NO_CPU };
    static const struct option opts[] = {
        {"id", required_argument, NULL, OPT_ID},
        {"mac", required_argument, NULL, OPT_MAC},
        {"ip", required_argument, NULL, OPT_IP},
        {"ipv6", required_argument, NULL, OPT_IPV6},
        {"vni", required_argument, NULL, OPT_VNI},
        {"sg", required_argument, NULL, OPT_SG},
        {"no-sg", no_argument, NULL, OPT_NO_SG},
        {"description", required_argument, NULL, OPT_DESC},
        {"source-dest-check", required_argument, NULL, OPT_SDC},
        {"vm", required_argument, NULL, OPT_VM},
        {"cpu-xml", required_argument, NULL, OPT_CPU_XML},
        {"no-cpu", no_argument, NULL, OPT_NO_CPU},
        {NULL, 0, NULL, 0},
    };
    struct json *body = json_object_create();
    struct json *ips = json_array_create_empty();

    for (;;) {
        int c = getopt_long(argc, argv, "+", opts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_ID:
            if (!create) {
                usage_error("--id: the id of an ENI cannot be changed");
            }
            json_object_put_string(body, "id", optarg);
            break;
        case OPT_MAC:
            json_object_put_string(body, "mac", optarg);
            break;
        case OPT_IP:
            json_array_add(ips, json_string_create(optarg));
            break;
        case OPT_IPV6:
            add_string(body, "ipv6s", optarg);
            break;
        case OPT_VNI:
            json_object_put(body, "vni", json_integer_create(
                                parse_int("--vni", optarg, 0,
                                          UINT32_MAX)));
            break;
        case OPT_SG:
            add_string(body, "security_groups", optarg);
            break;
        case OPT_NO_SG:
            json_object_put(body, "security_groups",
                            json_array_create_empty());
            break;
        case OPT_DESC:
            json_object_put_string(body, "description", optarg);
            break;
        case OPT_SDC:
            if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
                usage_error("--source-dest-check: \"%s\" is not on or off",
                            optarg);
            }
            json_object_put(body, "source_dest_check",
                            json_boolean_create(!strcmp(optarg, "on")));
            break;
        case OPT_CPU_XML:
            json_object_put(body, "cpu", json_string_create_nocopy(
                                read_file("--cpu-xml", optarg)));
            break;
        case OPT_NO_CPU:
            json_object_put(body, "cpu", json_null_create());
            break;
        case OPT_VM:
            if (!create) {
                usage_error("--vm: use \"eni attach\" or \"eni detach\"");
            }
            json_object_put_string(body, "vm_uuid", optarg);
            break;
        default:
            exit(EXIT_USAGE);
        }
    }

    /* The first --ip is the primary address, the others secondary. */
    const struct json_array *a = json_array(ips);
    if (a->n) {
        json_object_put(body, "primary_ipv4", json_clone(a->elems[0]));
        struct json *sec = json_array_create_empty();
        for (size_t i = 1; i < a->n; i++) {
            json_array_add(sec, json_clone(a->elems[i]));
        }
        json_object_put(body, "secondary_ipv4s", sec);
    }
    json_destroy(ips);
    return body;
}

int
cmd_eni(const struct ctl *ctl, int argc, char *argv[])
{
    const char *sub = argc > optind ? argv[optind++] : NULL;
    char *path;
    int status;

    if (!sub) {
        usage_error("eni: missing subcommand (list, show, create, update, "
                    "delete, attach, detach)");
    } else if (!strcmp(sub, "list")) {
        need_args(argc, argv, 0, "eni list");
        return output(ctl, call(ctl, "GET", "/v1/enis", NULL), eni_table);
    } else if (!strcmp(sub, "show")) {
        need_args(argc, argv, 1, "eni show ID");
        path = path_for("enis", argv[optind], NULL);
        status = output(ctl, call(ctl, "GET", path, NULL), eni_detail);
    } else if (!strcmp(sub, "create")) {
        struct json *body = eni_body(argc, argv, true);
        need_args(argc, argv, 0, "eni create [OPTIONS]");
        return output(ctl, call(ctl, "POST", "/v1/enis", body), eni_detail);
    } else if (!strcmp(sub, "update")) {
        if (argc - optind < 1) {
            usage_error("eni update: missing ENI id");
        }
        path = path_for("enis", argv[optind++], NULL);
        struct json *body = eni_body(argc, argv, false);
        need_args(argc, argv, 0, "eni update ID [OPTIONS]");
        if (!shash_count(json_object(body))) {
            usage_error("eni update: nothing to change (try --help)");
        }
        status = output(ctl, call(ctl, "PATCH", path, body), eni_detail);
    } else if (!strcmp(sub, "delete")) {
        need_args(argc, argv, 1, "eni delete ID");
        path = path_for("enis", argv[optind], NULL);
        status = output(ctl, call(ctl, "DELETE", path, NULL), eni_detail);
    } else if (!strcmp(sub, "attach")) {
        need_args(argc, argv, 2, "eni attach ID VM_UUID");
        struct json *body = json_object_create();
        json_object_put_string(body, "vm_uuid", argv[optind + 1]);
        path = path_for("enis", argv[optind], "/attach");
        status = output(ctl, call(ctl, "POST", path, body), eni_detail);
    } else if (!strcmp(sub, "detach")) {
        need_args(argc, argv, 1, "eni detach ID");
        path = path_for("enis", argv[optind], "/detach");
        status = output(ctl, call(ctl, "POST", path, NULL), eni_detail);
    } else {
        usage_error("eni %s: unknown subcommand (try --help)", sub);
    }
    free(path);
    return status;
}
