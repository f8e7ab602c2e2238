/* What every part of tetherctl shares: die() with the exit status, and the
 * parsing of a command's operands (count, numbers, escaped resource paths). */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

#include "ctl/tetherctl.h"

void OVS_PRINTF_FORMAT(2, 3) OVS_NO_RETURN
die(int status, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", program_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(status);
}

/* Checks that exactly 'n' operands follow the subcommand's options. */
void
need_args(int argc, char *argv[], int n, const char *syntax)
{
    if (argc - optind != n) {
        usage_error("%s: expected %s (try --help)",
                    argc - optind < n ? "missing arguments" : "too many "
                    "arguments", syntax);
    }
    (void) argv;
}

char *
path_for(const char *collection, const char *id, const char *suffix)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "/v1/%s/", collection);
    for (const char *p = id; *p; p++) {
        unsigned char c = *p;
        if (isalnum(c) || strchr("-._~:", c)) {
            ds_put_char(&s, c);
        } else {
            ds_put_format(&s, "%%%02X", c);
        }
    }
    ds_put_cstr(&s, suffix ? suffix : "");
    return ds_steal_cstr(&s);
}

char *
read_file(const char *option, const char *name)
{
    FILE *f = strcmp(name, "-") ? fopen(name, "r") : stdin;
    if (!f) {
        usage_error("%s: %s: %s", option, name, ovs_strerror(errno));
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    int c;
    while ((c = getc(f)) != EOF) {
        ds_put_char(&s, c);
    }
    bool error = ferror(f);
    if (f != stdin) {
        fclose(f);
    }
    if (error) {
        usage_error("%s: %s: read error", option, name);
    }
    return ds_steal_cstr(&s);
}

long long int
parse_int(const char *option, const char *s, long long int min,
          long long int max)
{
    char *end;
    errno = 0;
    long long int v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        usage_error("%s: \"%s\" is not a number in %lld..%lld", option, s,
                    min, max);
    }
    return v;
}
