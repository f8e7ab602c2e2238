/* tetherctl: the operator's command-line client of tetherd's REST API
 * (docs/openapi.yaml).  One blocking HTTP/1.1 request per command; prints a
 * table, or the server's JSON with --format=json.  Exit status: 0 success,
 * 1 the server refused (its message on stderr), 2 usage error, 3 the
 * server could not be reached or answered nonsense. */
#include <config.h>

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "ctl/tetherctl.h"

#define DEFAULT_SERVER "http://127.0.0.1:8650"

static void
usage(void)
{
    printf("%s: command-line client of tetherd's REST API\n"
           "usage: %s [OPTIONS] COMMAND [ARG...]\n"
           "\nENIs:\n"
           "  eni list\n"
           "  eni show ID\n"
           "  eni create [--id=ID] [--mac=MAC] [--ip=IPV4]... [--ipv6=IPV6]...\n"
           "             --vni=VNI [--sg=SG_ID]... [--description=TEXT]\n"
           "             [--source-dest-check=on|off] [--vm=VM_UUID]\n"
           "             [--cpu-xml=FILE]  the VM's libvirt <cpu> "
           "definition\n"
           "             (the first --ip is the primary address)\n"
           "  eni update ID [--mac=MAC] [--ip=IPV4]... [--ipv6=IPV6]... "
           "[--vni=VNI]\n"
           "             [--sg=SG_ID]... [--no-sg] [--description=TEXT]\n"
           "             [--source-dest-check=on|off] "
           "[--cpu-xml=FILE | --no-cpu]\n"
           "  eni delete ID\n"
           "  eni attach ID VM_UUID\n"
           "  eni detach ID\n"
           "\nSecurity groups:\n"
           "  sg list\n"
           "  sg show ID\n"
           "  sg create [--id=ID [--replace]] [--name=NAME] "
           "[--description=TEXT]\n"
           "            [--rule=DIRECTION,PROTOCOL,PORT_MIN,PORT_MAX,REMOTE"
           "[,ETHERTYPE]]...\n"
           "            e.g. --rule=ingress,tcp,22,22,10.0.0.0/8 or "
           "--rule=ingress,icmp,,,sg-web\n"
           "  sg delete ID\n"
           "\nHosts, migrations, metrics:\n"
           "  host list\n"
           "  host show ID\n"
           "  migration list\n"
           "  migration watch           print phase changes as they happen\n"
           "  metrics\n"
           "\nMigration admission:\n"
           "  domain list|show ID|delete ID\n"
           "  domain set ID [--kind=rack|row|zone|...] HOST...\n"
           "  group list|show ID|delete ID\n"
           "  group set ID [--bandwidth=MBPS] ENI_OR_VM...\n"
           "  rule list|show ID|delete ID\n"
           "  rule set ID must|should together|apart GROUP "
           "[domain=D | scope=host|KIND]\n"
           "           [weight=N]\n"
           "  host maintenance ID on|off\n"
           "  host limits ID [max-enis=N] [bandwidth=MBPS]\n"
           "  recommend ENI             best destinations for ENI's VM\n"
           "  evacuate plan|start|status HOST\n"
           "  cpu baseline [DOMAIN] [--libvirt-xml]\n"
           "  cpu check FLAG,...|host:ID|xml:FILE HOST [--source=ID]\n"
           "\nOptions:\n"
           "  --server=URL       tetherd's API (default $TETHER_SERVER, else "
           "%s)\n"
           "  --token=TOKEN      bearer token for changes (default "
           "$TETHER_TOKEN)\n"
           "  --format=table|json  output (default table)\n"
           "  -h, --help         display this help message\n"
           "  -V, --version      display version information\n"
           "\nExit status: 0 success, 1 the server refused, 2 usage error, "
           "3 server unreachable.\n",
           program_name, program_name, DEFAULT_SERVER);
}

int
main(int argc, char *argv[])
{
    enum { OPT_SERVER = UCHAR_MAX + 1, OPT_TOKEN, OPT_FORMAT };
    static const struct option opts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct ctl ctl = {
        .server = getenv("TETHER_SERVER"),
        .token = getenv("TETHER_TOKEN"),
    };

    set_program_name(argv[0]);
    if (!ctl.server || !ctl.server[0]) {
        ctl.server = DEFAULT_SERVER;
    }
    opterr = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "+hV", opts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_SERVER:
            ctl.server = optarg;
            break;
        case OPT_TOKEN:
            ctl.token = optarg;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "json")) {
                ctl.json = true;
            } else if (!strcmp(optarg, "table")) {
                ctl.json = false;
            } else {
                usage_error("--format: \"%s\" is not table or json", optarg);
            }
            break;
        case 'h':
            usage();
            return EXIT_OK;
        case 'V':
            printf("tetherctl (tether) %s\n", TETHER_VERSION);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage_error("missing command (try --help)");
    }

    const char *cmd = argv[optind++];
    if (!strcmp(cmd, "eni")) {
        return cmd_eni(&ctl, argc, argv);
    } else if (!strcmp(cmd, "sg")) {
        return cmd_sg(&ctl, argc, argv);
    } else if (!strcmp(cmd, "host") && argc > optind
               && (!strcmp(argv[optind], "maintenance")
                   || !strcmp(argv[optind], "limits"))) {
        return cmd_host_admission(&ctl, argc, argv);
    } else if (!strcmp(cmd, "domain") || !strcmp(cmd, "group")
               || !strcmp(cmd, "rule")) {
        return cmd_admission_config(&ctl, cmd, argc, argv);
    } else if (!strcmp(cmd, "recommend")) {
        return cmd_recommend(&ctl, argc, argv);
    } else if (!strcmp(cmd, "evacuate")) {
        return cmd_evacuate(&ctl, argc, argv);
    } else if (!strcmp(cmd, "cpu")) {
        return cmd_cpu(&ctl, argc, argv);
    } else if (!strcmp(cmd, "host")) {
        return cmd_host(&ctl, argc, argv);
    } else if (!strcmp(cmd, "migration")) {
        return cmd_migration(&ctl, argc, argv);
    } else if (!strcmp(cmd, "metrics")) {
        return cmd_metrics(&ctl, argc, argv);
    }
    usage_error("%s: unknown command (try --help)", cmd);
}
