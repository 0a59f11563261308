/*
 * metrics.h - GET /metrics (Prometheus text format 0.0.4) and GET
 * /healthz, from the hub's monotonic counts (hub_totals).
 *
 * Does: one family per count with HELP and TYPE lines, label values
 * escaped (\\, \", \n), families always present (empty label sets give
 * no sample). Does not: count (hub.c).
 */
#ifndef METRICS_H
#define METRICS_H

#include <jansson.h>

struct evbuffer;

/* metrics_format - the exposition text of totals (hub_totals' shape)
 * appended to out */
void metrics_format(const json_t *totals, struct evbuffer *out);

/* metrics_escape - a label value escaped for the text format into out
 * (at most len-1 bytes + NUL); returns out */
char *metrics_escape(const char *in, char *out, size_t len);

#endif
