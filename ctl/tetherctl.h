/* Private to tetherctl: what its files share, namely the options every
 * command sees (struct ctl), the exit statuses, die() and the operand
 * helpers (common.c), and the command handlers main() dispatches to
 * (cmd-*.c).  Not a library interface; tetherctl is one program. */
#ifndef CTL_TETHERCTL_H
#define CTL_TETHERCTL_H 1

#include <stdbool.h>

#include "openvswitch/compiler.h"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
};

/* The global options, as main() parsed them. */
struct ctl {
    const char *server;
    const char *token;
    bool json;
};

/* common.c. */

/* Prints "tetherctl: " and the message on stderr, and exits 'status'. */
void die(int status, const char *fmt, ...)
    OVS_PRINTF_FORMAT(2, 3) OVS_NO_RETURN;
#define usage_error(...) die(EXIT_USAGE, __VA_ARGS__)

void need_args(int argc, char *argv[], int n, const char *syntax);
/* "/v1/COLLECTION/ID[SUFFIX]" with 'id' percent-escaped; caller frees. */
char *path_for(const char *collection, const char *id, const char *suffix);
/* 's' as a number in 'min'..'max', else a usage error naming 'option'. */
long long int parse_int(const char *option, const char *s, long long int min,
                        long long int max);

/* The contents of file 'name' ("-": standard input), or a usage error
 * naming 'option'; caller frees. */
char *read_file(const char *option, const char *name);

/* The commands: each parses argv[optind..argc) (optind past the command
 * word) and returns the exit status, or exits itself on an error. */
int cmd_eni(const struct ctl *, int argc, char *argv[]);
int cmd_sg(const struct ctl *, int argc, char *argv[]);
int cmd_host(const struct ctl *, int argc, char *argv[]);
int cmd_migration(const struct ctl *, int argc, char *argv[]);
int cmd_metrics(const struct ctl *, int argc, char *argv[]);
int cmd_admission_config(const struct ctl *, const char *kind, int argc,
                         char *argv[]);
int cmd_host_admission(const struct ctl *, int argc, char *argv[]);
int cmd_recommend(const struct ctl *, int argc, char *argv[]);
int cmd_evacuate(const struct ctl *, int argc, char *argv[]);
int cmd_cpu(const struct ctl *, int argc, char *argv[]);

#endif /* ctl/tetherctl.h */
