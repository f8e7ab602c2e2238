/* Config files as long options (see config-file.h). */
#include "lib/config-file.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char * __attribute__((format(printf, 1, 2)))
xasprintf__(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);

    char *s = malloc(len + 1);
    if (s) {
        va_start(args, fmt);
        vsnprintf(s, len + 1, fmt, args);
        va_end(args);
    }
    return s;
}

static char *
trim__(char *s)
{
    while (isspace((unsigned char) *s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char) end[-1])) {
        *--end = '\0';
    }
    return s;
}

static int
push__(char ***argvp, int *n, int *cap, char *arg)
{
    if (!arg) {
        return ENOMEM;
    }
    if (*n + 1 >= *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        char **nv = realloc(*argvp, ncap * sizeof *nv);
        if (!nv) {
            free(arg);
            return ENOMEM;
        }
        *argvp = nv;
        *cap = ncap;
    }
    (*argvp)[(*n)++] = arg;
    (*argvp)[*n] = NULL;
    return 0;
}

const char *
config_file_find_arg(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            break;
        } else if (!strncmp(argv[i], "--config=", 9)) {
            return argv[i] + 9;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            return argv[i + 1];
        }
    }
    return NULL;
}

int
config_file_merge(const char *path, int argc, char *argv[],
                  int *argcp, char ***argvp, char **errp)
{
    char **nargv = NULL;
    int n = 0, cap = 0;
    int error = 0;
    char line[4096];
    int lineno = 0;

    *errp = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        error = errno;
        *errp = xasprintf__("%s: cannot open config file: %s", path,
                            strerror(error));
        return error;
    }

    error = push__(&nargv, &n, &cap, strdup(argc > 0 ? argv[0] : "tether"));
    while (!error && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            *errp = xasprintf__("%s:%d: line too long", path, lineno);
            error = EINVAL;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *s = trim__(line);
        if (!*s) {
            continue;
        }
        char *eq = strchr(s, '=');
        char *name = s, *value = NULL;
        if (eq) {
            *eq = '\0';
            name = trim__(s);
            value = trim__(eq + 1);
        }
        if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-")
                      != strlen(name) || name[0] == '-') {
            *errp = xasprintf__("%s:%d: \"%s\" is not an option name "
                                "(expected \"name = value\")", path, lineno,
                                name);
            error = EINVAL;
            break;
        }
        if (!strcmp(name, "config")) {
            *errp = xasprintf__("%s:%d: a config file cannot name another "
                                "config file", path, lineno);
            error = EINVAL;
            break;
        }
        size_t len = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
        char *arg = malloc(len);
        if (arg) {
            snprintf(arg, len, value ? "--%s=%s" : "--%s", name,
                     value ? value : "");
        }
        error = push__(&nargv, &n, &cap, arg);
    }
    fclose(f);

    for (int i = 1; !error && i < argc; i++) {
        error = push__(&nargv, &n, &cap, strdup(argv[i]));
    }
    if (error) {
        if (!*errp) {
            *errp = xasprintf__("%s: out of memory", path);
        }
        config_file_free_argv(n, nargv);
        return error;
    }
    *argcp = n;
    *argvp = nargv;
    return 0;
}

void
config_file_free_argv(int argc, char **argv)
{
    if (argv) {
        for (int i = 0; i < argc; i++) {
            free(argv[i]);
        }
        free(argv);
    }
}
