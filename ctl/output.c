/* tetherctl's output: a server answer as a table of columns, as "name: value"
 * lines, or as pretty JSON with --format=json. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

#include "ctl/output.h"

void
print_json(const struct json *j)
{
    char *s = json_to_string(j, JSSF_PRETTY | JSSF_SORT);
    puts(s);
    free(s);
}

const struct json *
get(const struct json *obj, const char *name)
{
    return (obj && obj->type == JSON_OBJECT
            ? shash_find_data(json_object(obj), name) : NULL);
}

/* 'v' as table text: strings bare, null and absent as "-", arrays joined
 * with ",", the rest as JSON. */
char *
cell(const struct json *v)
{
    if (!v || v->type == JSON_NULL) {
        return xstrdup("-");
    } else if (v->type == JSON_STRING) {
        return xstrdup(json_string(v)[0] ? json_string(v) : "-");
    } else if (v->type == JSON_ARRAY) {
        const struct json_array *a = json_array(v);
        struct ds s = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < a->n; i++) {
            char *c = cell(a->elems[i]);
            ds_put_format(&s, "%s%s", i ? "," : "", c);
            free(c);
        }
        return a->n ? ds_steal_cstr(&s) : xstrdup("-");
    }
    return json_to_string(v, JSSF_SORT);
}

/* Prints the objects of 'array' as a table with 'n' columns: 'titles' over
 * the fields 'fields'. */
void
print_table(const struct json *array, const char *const titles[],
            const char *const fields[], size_t n)
{
    const struct json_array *a = (array && array->type == JSON_ARRAY
                                  ? json_array(array) : NULL);
    size_t rows = a ? a->n : 0;
    char **cells = xcalloc((rows + 1) * n, sizeof *cells);
    size_t *width = xcalloc(n, sizeof *width);

    for (size_t c = 0; c < n; c++) {
        cells[c] = xstrdup(titles[c]);
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < n; c++) {
            cells[(r + 1) * n + c] = cell(get(a->elems[r], fields[c]));
        }
    }
    for (size_t i = 0; i < (rows + 1) * n; i++) {
        size_t len = strlen(cells[i]);
        width[i % n] = MAX(width[i % n], len);
    }
    for (size_t r = 0; r <= rows; r++) {
        for (size_t c = 0; c < n; c++) {
            const char *s = cells[r * n + c];
            if (c + 1 < n) {
                printf("%-*s  ", (int) width[c], s);
            } else {
                printf("%s\n", s);
            }
        }
    }
    for (size_t i = 0; i < (rows + 1) * n; i++) {
        free(cells[i]);
    }
    free(cells);
    free(width);
}

/* Prints every member of 'obj' as "name: value", in 'order' first. */
void
print_object(const struct json *obj, const char *const order[], size_t n)
{
    struct shash seen = SHASH_INITIALIZER(&seen);
    for (size_t i = 0; i < n; i++) {
        char *c = cell(get(obj, order[i]));
        printf("%-18s %s\n", order[i], c);
        free(c);
        shash_add_once(&seen, order[i], NULL);
    }
    if (obj && obj->type == JSON_OBJECT) {
        const struct shash_node **nodes = shash_sort(json_object(obj));
        for (size_t i = 0; i < shash_count(json_object(obj)); i++) {
            if (!shash_find(&seen, nodes[i]->name)) {
                char *c = cell(nodes[i]->data);
                printf("%-18s %s\n", nodes[i]->name, c);
                free(c);
            }
        }
        free(nodes);
    }
    shash_destroy(&seen);
}

/* Prints 'j' as JSON with --format=json, else through 'table'. */
int
output(const struct ctl *ctl, struct json *j,
       void (*table)(const struct json *))
{
    if (j) {
        if (ctl->json) {
            print_json(j);
        } else {
            table(j);
        }
        json_destroy(j);
    }
    return EXIT_OK;
}
