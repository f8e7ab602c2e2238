/* The host's CPU from /proc/cpuinfo (see cpuinfo.h). */
#include <config.h>

#include "hostagent/cpuinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_FLAGS 1024
#define MAX_FLAG 64
#define MAX_MODEL 128

/* The value of "key<tabs/spaces>: value" if 'line' has key 'key'. */
static char *
value_of__(char *line, const char *key)
{
    size_t len = strlen(key);
    if (strncmp(line, key, len) || !strchr(" \t:", line[len])) {
        return NULL;
    }
    char *colon = strchr(line + len, ':');
    if (!colon) {
        return NULL;
    }
    char *v = colon + 1 + strspn(colon + 1, " \t");
    v[strcspn(v, "\n")] = '\0';
    return v;
}

int
cpuinfo_read(const char *path, struct cpuinfo *ci)
{
    FILE *f = fopen(path, "r");
    char line[16384];

    memset(ci, 0, sizeof *ci);
    ci->model = xstrdup("");
    if (!f) {
        return errno;
    }
    bool have_flags = false;
    int processors = 0;
    while (fgets(line, sizeof line, f)) {
        char *v;
        if (value_of__(line, "processor") && ++processors > 1) {
            break;              /* the first processor only */
        } else if ((v = value_of__(line, "model name")) && !ci->model[0]) {
            free(ci->model);
            ci->model = xmemdup0(v, MIN(strlen(v), MAX_MODEL));
        } else if (!have_flags && ((v = value_of__(line, "flags"))
                                   || (v = value_of__(line, "Features")))) {
            have_flags = true;
            char *save = NULL;
            for (char *tok = strtok_r(v, " \t", &save); tok;
                 tok = strtok_r(NULL, " \t", &save)) {
                size_t len = strlen(tok);
                if (ci->n_flags < MAX_FLAGS && len <= MAX_FLAG
                    && strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_.")
                       == len) {
                    ci->flags = xrealloc(ci->flags, (ci->n_flags + 1)
                                         * sizeof *ci->flags);
                    ci->flags[ci->n_flags++] = xstrdup(tok);
                }
            }
        }
    }
    fclose(f);
    return 0;
}

void
cpuinfo_destroy(struct cpuinfo *ci)
{
    if (ci) {
        free(ci->model);
        for (size_t i = 0; i < ci->n_flags; i++) {
            free(ci->flags[i]);
        }
        free(ci->flags);
        memset(ci, 0, sizeof *ci);
    }
}
