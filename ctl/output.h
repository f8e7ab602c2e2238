/* tetherctl's printing of server answers: tables of columns, "name: value"
 * objects, or pretty JSON with --format=json. */
#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H 1

#include <stddef.h>

#include "ctl/tetherctl.h"

struct json;

void print_json(const struct json *);

/* The member 'name' of 'obj', or NULL if 'obj' is not an object or has
 * none. */
const struct json *get(const struct json *obj, const char *name);

/* 'v' as table text: strings bare, null and absent as "-", arrays joined
 * with ",", the rest as JSON.  The caller frees it. */
char *cell(const struct json *v);

/* Prints the objects of 'array' as a table with 'n' columns: 'titles' over
 * the members 'fields'. */
void print_table(const struct json *array, const char *const titles[],
                 const char *const fields[], size_t n);

/* Prints every member of 'obj' as "name: value", in 'order' first. */
void print_object(const struct json *obj, const char *const order[],
                  size_t n);

/* Prints 'j' as JSON with --format=json, else through 'table'; destroys
 * 'j'.  Returns EXIT_OK. */
int output(const struct ctl *, struct json *j,
           void (*table)(const struct json *));

#endif /* ctl/output.h */
