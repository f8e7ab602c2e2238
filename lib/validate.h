/* Syntax checks for the identifiers and addresses that cross tether's
 * boundaries (protocol messages, REST requests, OVSDB external_ids).
 * Pure functions: no allocation, no state.  NULL is never valid. */
#ifndef LIB_VALIDATE_H
#define LIB_VALIDATE_H 1

#include <stdbool.h>
#include <stdint.h>

#define TETHER_HOST_ID_MAX 64
#define TETHER_ENI_ID_MAX 128

bool tether_valid_host_id(const char *s);     /* [A-Za-z0-9._-]{1,64} */
bool tether_valid_eni_id(const char *s);      /* [A-Za-z0-9._:-]{1,128} */
bool tether_valid_uuid(const char *s);        /* 8-4-4-4-12 hex digits */

/* "aa:bb:cc:dd:ee:ff", case-insensitive.  If 'mac' is nonnull, stores the
 * six bytes there. */
bool tether_parse_mac(const char *s, uint8_t mac[6]);

/* An IPv4 or IPv6 literal without prefix length. */
bool tether_valid_ip(const char *s);

struct sockaddr_storage;

/* Parses "IPv4:PORT" or "[IPv6]:PORT" (PORT 0..65535; 0 asks the kernel for
 * a free one) into '*ss' and '*lenp'.  Returns true on success. */
bool tether_parse_ip_port(const char *s, struct sockaddr_storage *ss,
                          int *lenp);

#endif /* lib/validate.h */
