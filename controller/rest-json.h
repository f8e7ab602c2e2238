/* The REST API's JSON <-> struct conversions for ENIs, security groups and
 * hosts (field names and types as in docs/openapi.yaml).  Pure: no I/O, no
 * store; "time" is passed in.
 *
 * The *_from_json() functions are strict: an unknown field, a read-only
 * field, or a field of the wrong JSON type is an error.  They check types
 * and ranges only; eni_check() / security_group_check() check the values.
 * On error they return a malloc()ed message that names the field ("vni:
 * must be an integer", "rules[1].protocol: \"tcpp\" is not ...") and store
 * a machine-readable code ("unknown_field", "read_only_field",
 * "invalid_field") in '*codep'; the struct may then be partly changed. */
#ifndef CONTROLLER_REST_JSON_H
#define CONTROLLER_REST_JSON_H 1

#include <stdbool.h>

struct eni;
struct host;
struct json;
struct security_group;

struct json *rest_error_to_json(const char *code, const char *message);

struct json *rest_eni_to_json(const struct eni *);

/* How rest_eni_from_json() treats the fields it meets. */
enum rest_eni_mode {
    REST_ENI_CREATE,    /* every API field and vm_uuid; null = absent */
    REST_ENI_PATCH,     /* API fields; null clears optional ones; id only
                         * if unchanged; vm_uuid refused (attach/detach) */
};
/* Applies the members of JSON object 'obj' to 'e'. */
char *rest_eni_from_json(const struct json *obj, struct eni *e,
                         enum rest_eni_mode, const char **codep);

struct json *rest_sg_to_json(const struct security_group *);
/* Fills 'sg' (freshly zeroed, or whose rules are replaced) from 'obj'. */
char *rest_sg_from_json(const struct json *obj, struct security_group *sg,
                        const char **codep);

/* 'now' is on the clock of 'host''s timestamps (time_msec()). */
struct json *rest_host_to_json(const struct host *, long long int now);

/* "2024-05-01T12:00:00.123Z" for wall-clock milliseconds 'ms'. */
struct json *rest_time_to_json(long long int ms);

/* IP protocol names the API accepts and prints ("tcp", "udp", "icmp",
 * "icmpv6", "sctp", "any"); returns false for anything else. */
bool rest_protocol_from_string(const char *, int *proto);
const char *rest_protocol_to_string(int proto);  /* NULL if it has none */

#endif /* controller/rest-json.h */
