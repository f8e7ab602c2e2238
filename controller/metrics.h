/* tetherd's metrics: one process-wide registry of counters, gauges and
 * histograms that any module updates by name, rendered in the Prometheus
 * text exposition format (version 0.0.4) for GET /metrics.  Not a
 * time-series store and no I/O: the REST API renders it on demand.
 *
 * Contract:
 *
 *   - A metric family is created by the first call that names it, with that
 *     call's 'help' text and type; later calls may pass NULL 'help'.  Using
 *     one name with two types is a programming error (assertion).
 *
 *   - 'name' must match [a-zA-Z_:][a-zA-Z0-9_:]*.  'labels' is NULL (no
 *     labels) or the text between the braces of a Prometheus series, e.g.
 *     "code=\"404\"" or "host=\"hv1\",result=\"ok\"": each combination of
 *     labels is its own series.  Label values are the caller's to escape
 *     (metrics_escape_label() helps for values that come from outside).
 *
 *   - Counters only go up ('value' >= 0); gauges are set; histograms count
 *     observations into cumulative buckets (METRICS_LATENCY_BUCKETS, in
 *     seconds, unless metrics_histogram_define() chose others first).
 *
 *   - Collectors registered with metrics_register_collector() run at the
 *     start of every metrics_render(), to refresh gauges that are cheaper
 *     to read than to track (number of ENIs, of connected hosts).
 *
 * Single-threaded, like the rest of tetherd. */
#ifndef CONTROLLER_METRICS_H
#define CONTROLLER_METRICS_H 1

#include <stddef.h>

struct ds;

void metrics_counter_add(const char *name, const char *help,
                         const char *labels, double value);
void metrics_gauge_set(const char *name, const char *help,
                       const char *labels, double value);
void metrics_gauge_add(const char *name, const char *help,
                       const char *labels, double delta);

/* Observes 'value' in histogram 'name' (series 'labels'). */
void metrics_histogram_observe(const char *name, const char *help,
                               const char *labels, double value);
/* Creates histogram 'name' with 'n' ascending upper bounds 'buckets' (+Inf
 * is implied).  No effect if 'name' exists already. */
void metrics_histogram_define(const char *name, const char *help,
                              const double *buckets, size_t n);

/* Default buckets: 100 us .. 10 s. */
#define METRICS_LATENCY_BUCKETS \
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, \
    0.1, 0.25, 0.5, 1, 2.5, 5, 10

/* Calls 'cb(aux)' at the start of every metrics_render() until
 * metrics_unregister_collector() with the same pair. */
void metrics_register_collector(void (*cb)(void *aux), void *aux);
void metrics_unregister_collector(void (*cb)(void *aux), void *aux);

/* Value of series 'labels' of counter or gauge 'name' (0 if none); for
 * tests and for tetherd's own status output. */
double metrics_get(const char *name, const char *labels);

/* Appends every family, sorted by name, in the text format to 'out'. */
void metrics_render(struct ds *out);

/* Appends 'value' escaped for use inside a label's double quotes. */
void metrics_escape_label(const char *value, struct ds *out);

/* Forgets every metric and collector (tests, shutdown). */
void metrics_clear(void);

#endif /* controller/metrics.h */
