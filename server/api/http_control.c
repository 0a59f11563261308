/*
 * http_control.c - the control routes of the HTTP API: PUT /api/v1/profile,
 * POST and GET /api/v1/rules, DELETE /api/v1/rules/{id}, POST
 * /api/v1/reset.
 *
 * Does: read the request (body, content type, ?sessions=N), call the
 * daemon's control functions (daemon/control.h) and answer in the API's
 * JSON shapes, errors as {"error": "..."} with the loader's
 * "<request>:LINE:COL: reason". Does not: validate profiles or rules (the
 * profile loader does, through control.c) or decide which session gets
 * what (control.c, at accept).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "control.h"
#include "http.h"
#include "stats.h"

#define ERR_MAX 1200

/* Whether the request says its body is JSON (application/json, with or
 * without parameters such as charset). */
static bool
is_json(struct evhttp_request *req)
{
	const char *ct = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	size_t n = strlen("application/json");

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * PUT /api/v1/profile: {"name": NAME} as application/json, else the body
 * is a profile's YAML. 200 {"profile": NAME}, 400 {"error": ...}.
 */
static void
put_profile(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	struct server *srv = http_server(api);
	char err[ERR_MAX], name[128];
	const char *body;
	size_t len;
	int rc;

	if ((body = http_body(req, &len)) == NULL)
		return;
	if (is_json(req)) {
		json_error_t je;
		json_t *o = json_loadb(body, len, 0, &je), *nm;

		if (o == NULL) {
			snprintf(
			    err, sizeof(err),
			    "body: bad JSON at line %d column %d: %s "
			    "(send {\"name\": \"PROFILE\"}, or the profile's "
			    "YAML with another content type)",
			    je.line, je.column, je.text);
			http_error(req, 400, err);
			return;
		}
		nm = json_object_get(o, "name");
		if (!json_is_string(nm)) {
			json_decref(o);
			http_error(
			    req, 400,
			    "body: give {\"name\": \"PROFILE\"} (a profile "
			    "name, e.g. exchange2013), or the profile's YAML "
			    "with another content type");
			return;
		}
		rc = server_use_profile(srv, json_string_value(nm),
		                        json_string_length(nm), false, err,
		                        sizeof(err));
		json_decref(o);
	} else {
		rc = server_use_profile(srv, body, len, true, err, sizeof(err));
	}
	if (rc == -1) {
		http_error(req, 400, err);
		return;
	}
	server_profile_name(srv, name, sizeof(name));
	http_reply_json(req, 200, json_pack("{s:s}", "profile", name));
}

/* ?sessions=N: N >= 1, or absent (or -1): until deleted. -1 on junk. */
static int
sessions_param(struct evhttp_request *req, long *out)
{
	const char *v = http_query(req, "sessions");
	char *end;
	long n;

	*out = -1;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || (n < 1 && n != -1))
		return -1;
	*out = n;
	return 0;
}

/*
 * POST /api/v1/rules?sessions=N: the body is one rule in profile syntax.
 * 201 {"id", "name", "sessions": N|null}, 400 {"error": ...}.
 */
static void
post_rule(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	char err[ERR_MAX], id[16], name[128];
	const char *body;
	size_t len;
	long sessions;

	if ((body = http_body(req, &len)) == NULL)
		return;
	if (sessions_param(req, &sessions) == -1) {
		http_error(req, 400,
		           "sessions: give a count of sessions (1 or more), or "
		           "leave it out for until deleted");
		return;
	}
	if (server_inject_rule(http_server(api), body, len, sessions, id,
	                       sizeof(id), name, sizeof(name), err,
	                       sizeof(err)) == -1) {
		http_error(req, 400, err);
		return;
	}
	http_reply_json(
	    req, 201,
	    json_pack("{s:s, s:s, s:o}", "id", id, "name", name, "sessions",
	              sessions < 0 ? json_null() : json_integer(sessions)));
}

/* GET /api/v1/rules: {"rules": [...]} */
static void
get_rules(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	http_reply_json(req, 200, server_rules_json(http_server(api)));
}

/* DELETE /api/v1/rules/{id}: 200 {"deleted": id}, 404 */
static void
delete_rule(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	char msg[160];

	if (*rest == '\0' || server_del_rule(http_server(api), rest) == -1) {
		snprintf(msg, sizeof(msg), "no injected rule \"%.64s\"", rest);
		http_error(req, 404, msg);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:s}", "deleted", rest));
}

/* POST /api/v1/reset: start profile, no injected rules, empty index and
 * counting window. 200 {"reset": true} */
static void
post_reset(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	struct stats *st = http_stats(api);

	server_reset(http_server(api));
	hub_reset(http_hub(api));
	if (st != NULL)
		stats_reset_window(st);
	http_reply_json(req, 200, json_pack("{s:b}", "reset", 1));
}

/* http_control_routes - register the control routes */
void
http_control_routes(struct http_api *api)
{
	http_route(api, "PUT", "/api/v1/profile", put_profile, true);
	http_route(api, "POST", "/api/v1/rules", post_rule, true);
	http_route(api, "GET", "/api/v1/rules", get_rules, true);
	http_route(api, "DELETE", "/api/v1/rules/", delete_rule, false);
	http_route(api, "POST", "/api/v1/reset", post_reset, true);
}
