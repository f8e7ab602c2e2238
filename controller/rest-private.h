/* Internals shared by the REST API's files: rest-server.c (HTTP plumbing,
 * authentication, routing, replies) and the endpoint handlers in
 * rest-eni.c, rest-sg.c and rest-host.c.  Not for use outside rest-*.c;
 * controller/rest.h is the contract with the rest of tetherd. */
#ifndef CONTROLLER_REST_PRIVATE_H
#define CONTROLLER_REST_PRIVATE_H 1

#include <stdbool.h>

#include "controller/eni-store.h"
#include "controller/rest.h"
#include "openvswitch/compiler.h"
#include "openvswitch/list.h"

struct evhttp_request;
struct json;

struct rest_server {
    struct evhttp *http;
    struct evconnlistener *listener;
    uint16_t port;
    struct rest_config config;          /* 'token' is our own copy */
    struct ovs_list pending;            /* rest_requests awaiting the store */
};

/* What a write replies with once the store has committed it. */
enum rest_object {
    REST_OBJ_NONE,              /* 204, no body */
    REST_OBJ_ENI,               /* the ENI 'ok_id' as the store now has it */
    REST_OBJ_SG,                /* the security group 'ok_id' */
};

/* One HTTP request, from the route's handler to its reply. */
struct rest_request {
    struct rest_server *server;     /* NULL once the server is destroyed */
    struct evhttp_request *req;     /* NULL once the server is destroyed */
    const char *method;             /* "GET", "POST", ... */
    char *id;                       /* the route's {id} segment, or NULL */
    long long int start;            /* time_msec() when it arrived */

    /* A write waiting for the store (in 'server->pending'). */
    struct ovs_list node;
    bool pending;
    int ok_status;
    enum rest_object ok_object;
    char *ok_id;
};

/* Replies: each sends the response and frees 'r'; 'r' is not to be touched
 * afterwards.  rest_reply_json() takes ownership of 'body'. */
void rest_reply_json(struct rest_request *r, int status, struct json *body);
void rest_reply_error(struct rest_request *r, int status, const char *code,
                      const char *fmt, ...) OVS_PRINTF_FORMAT(4, 5);
void rest_reply_text(struct rest_request *r, int status,
                     const char *content_type, const char *text);
void rest_reply_empty(struct rest_request *r, int status);

/* Parses the request body as one JSON object into '*objp' (the caller
 * frees it).  An empty body counts as {} if 'empty_ok'.  On failure replies
 * 400 or 413 and returns false: 'r' is then gone. */
bool rest_parse_body(struct rest_request *r, bool empty_ok,
                     struct json **objp);

/* Replies 503 and returns false if the store has not loaded yet. */
bool rest_check_store_ready(struct rest_request *r);

/* Marks 'r' as waiting for the store and returns the callback to hand the
 * store with 'r' as its aux: on success it replies 'ok_status' with the
 * object 'ok_object' named 'ok_id', on failure with the store's error
 * mapped to an HTTP status. */
eni_store_done_func *rest_wait_store(struct rest_request *r, int ok_status,
                                     enum rest_object ok_object,
                                     const char *ok_id);

/* Maps an eni-store error to an HTTP status and error code. */
int rest_status_from_errno(int error, const char **codep);

/* Endpoint handlers (the routing table is in rest-server.c). */
typedef void rest_handler_func(struct rest_request *);

rest_handler_func rest_eni_list, rest_eni_get, rest_eni_create,
    rest_eni_patch, rest_eni_delete, rest_eni_attach, rest_eni_detach;
rest_handler_func rest_sg_list, rest_sg_get, rest_sg_create, rest_sg_put,
    rest_sg_delete;
rest_handler_func rest_host_list, rest_host_get, rest_migration_list,
    rest_healthz, rest_metrics;
rest_handler_func rest_adm_domains, rest_adm_groups, rest_adm_rules,
    rest_adm_host_limits, rest_adm_recommend, rest_adm_evacuation,
    rest_adm_evacuation_status, rest_adm_cpu_baseline, rest_adm_cpu_check;

#endif /* controller/rest-private.h */
