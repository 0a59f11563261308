/*
 * http_control.c - the control routes of the HTTP API (PUT profile,
 * rules, reset). PLACEHOLDER on branch http: registers nothing; helper
 * control replaces this file with the real handlers (daemon/control.h).
 */
#include "http.h"

/* http_control_routes - none yet */
void
http_control_routes(struct http_api *api)
{
	(void)api;
}
