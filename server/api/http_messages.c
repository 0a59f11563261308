/*
 * http_messages.c - GET /api/v1/messages (search by from, to, subject,
 * header), GET /api/v1/messages/{id}, GET /api/v1/messages/{id}/raw and
 * DELETE /api/v1/messages.
 *
 * Does: take the hub's list of accepted messages, add what the spool
 * holds (envelope/NAME.json: mail_params and the recipients with their
 * DSN parameters; new/NAME: subject and headers, the raw bytes), filter;
 * purge the index's messages from the index and the spool. A message
 * accepted with --spool none is listed without raw bytes (404 with the
 * reason). Does not: write the spool (out/spool.c) or look at messages
 * the hub does not know (earlier runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http_int.h"
#include "hub.h"
#include "mail_headers.h"

/* A spool name we would open: no path parts. */
static bool
name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	       strchr(name, '/') == NULL;
}

static int
spool_path(struct http_api *api, const char *sub, const char *name,
           const char *suffix, char *buf, size_t len)
{
	int n;

	if (api->spool_dir == NULL || !name_ok(name))
		return -1;
	n = snprintf(buf, len, "%s/%s/%s%s", api->spool_dir, sub, name, suffix);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The first max bytes of a file, malloc'ed; NULL if unreadable. */
static char *
read_head(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char *buf;
	ssize_t n;
	size_t got = 0;

	if (fd == -1)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* rcpts as {"addr","notify","orcpt"}: from the envelope's objects, its
 * plain addresses, or the event's addresses */
static json_t *
rcpt_objects(const json_t *list)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(list, i, v) {
		json_t *r = json_object();

		if (json_is_string(v)) {
			json_object_set(r, "addr", v);
			json_object_set_new(r, "notify", json_null());
			json_object_set_new(r, "orcpt", json_null());
		} else {
			json_t *a = json_object_get(v, "addr");
			json_t *n = json_object_get(v, "notify");
			json_t *o = json_object_get(v, "orcpt");

			json_object_set_new(r, "addr",
			                    a ? json_incref(a) : json_null());
			json_object_set_new(r, "notify",
			                    n ? json_incref(n) : json_null());
			json_object_set_new(r, "orcpt",
			                    o ? json_incref(o) : json_null());
		}
		json_array_append_new(out, r);
	}
	return out;
}

/* Complete a hub summary with the spool's facts; returns its headers. */
static json_t *
enrich(struct http_api *api, json_t *m)
{
	const char *name = json_string_value(json_object_get(m, "spool"));
	char path[PATH_MAX];
	json_t *env = NULL, *headers, *params = NULL, *rcpts;
	char *raw;
	size_t len;

	if (spool_path(api, "envelope", name, ".json", path, sizeof(path)) == 0)
		env = json_load_file(path, 0, NULL);
	params = json_object_get(env, "mail_params");
	json_object_set_new(m, "mail_params",
	                    json_is_object(params) ? json_incref(params)
	                                           : json_object());
	rcpts = json_object_get(env, "rcpts");
	rcpts =
	    rcpt_objects(rcpts != NULL ? rcpts : json_object_get(m, "rcpts"));
	json_object_set_new(m, "rcpts", rcpts);
	json_decref(env);
	raw = NULL;
	if (spool_path(api, "new", name, "", path, sizeof(path)) == 0)
		raw = read_head(path, MAIL_HEADERS_BYTES, &len);
	headers = raw != NULL ? mail_headers_json(raw, len) : json_array();
	free(raw);
	{
		const char *subject = mail_header_get(headers, "Subject");

		json_object_set_new(
		    m, "subject", subject ? json_string(subject) : json_null());
	}
	return headers;
}

static bool
any_rcpt(const json_t *rcpts, const char *want)
{
	size_t i;
	json_t *r;

	json_array_foreach(rcpts, i, r)
		if (mail_contains(json_string_value(json_object_get(r, "addr")),
		                  want))
			return true;
	return false;
}

static void
messages_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	const char *from = http_query(req, "from"), *to = http_query(req, "to");
	const char *subject = http_query(req, "subject");
	const char *header = http_query(req, "header");
	json_t *list = hub_messages_json(api->hub), *out = json_array(), *m;
	size_t i;

	json_array_foreach(list, i, m) {
		json_t *headers = enrich(api, m);
		bool keep = true;

		if (from != NULL &&
		    !mail_contains(
		        json_string_value(json_object_get(m, "mail_from")),
		        from))
			keep = false;
		if (to != NULL && !any_rcpt(json_object_get(m, "rcpts"), to))
			keep = false;
		if (subject != NULL &&
		    !mail_contains(
		        json_string_value(json_object_get(m, "subject")),
		        subject))
			keep = false;
		if (header != NULL && !mail_header_match(headers, header))
			keep = false;
		json_decref(headers);
		if (keep)
			json_array_append(out, m);
	}
	json_decref(list);
	m = json_object();
	json_object_set_new(m, "messages", out);
	http_reply_json(req, 200, m);
}

/* The summary of message id, or NULL. */
static json_t *
find_message(struct http_api *api, const char *id, size_t idlen)
{
	json_t *list = hub_messages_json(api->hub), *m, *hit = NULL;
	size_t i;

	json_array_foreach(list, i, m) {
		const char *q = json_string_value(json_object_get(m, "id"));

		if (q != NULL && strlen(q) == idlen &&
		    memcmp(q, id, idlen) == 0)
			hit = json_incref(m);
	}
	json_decref(list);
	return hit;
}

static void
send_raw(struct http_api *api, struct evhttp_request *req, json_t *m)
{
	const char *name = json_string_value(json_object_get(m, "spool"));
	char path[PATH_MAX];
	struct evbuffer *b;
	struct stat st;
	int fd;

	if (name == NULL) {
		http_error(req, 404,
		           "no raw message: the server runs with "
		           "--spool none");
		return;
	}
	if (spool_path(api, "new", name, "", path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		http_error(req, 404, "no raw message: the spool file is gone");
		return;
	}
	if (fstat(fd, &st) == -1 || (b = evbuffer_new()) == NULL) {
		close(fd);
		http_error(req, 503, "cannot read the spool file");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Type", "message/rfc822");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Cache-Control", "no-store");
	if (st.st_size == 0)
		close(fd);
	else if (evbuffer_add_file(b, fd, 0, st.st_size) == -1) {
		evbuffer_free(b);
		http_error(req, 503, "cannot read the spool file");
		return;
	}
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
message_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t idlen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	json_t *m;

	if (idlen == 0 || (slash != NULL && strcmp(slash, "/raw") != 0)) {
		http_error(req, 404, "no such route");
		return;
	}
	if ((m = find_message(api, rest, idlen)) == NULL) {
		http_error(req, 404, "no such message");
		return;
	}
	if (slash != NULL) {
		send_raw(api, req, m);
		json_decref(m);
		return;
	}
	json_object_set_new(m, "headers", enrich(api, m));
	http_reply_json(req, 200, m);
}

static void
messages_delete(struct http_api *api, struct evhttp_request *req,
                const char *rest)
{
	json_t *names = hub_drop_messages(api->hub), *v, *o;
	size_t i;
	char path[PATH_MAX];

	json_array_foreach(names, i, v) {
		const char *name = json_string_value(v);

		if (spool_path(api, "new", name, "", path, sizeof(path)) == 0)
			unlink(path);
		if (spool_path(api, "envelope", name, ".json", path,
		               sizeof(path)) == 0)
			unlink(path);
	}
	o = json_object();
	json_object_set_new(o, "deleted",
	                    json_integer((json_int_t)json_array_size(names)));
	json_decref(names);
	http_reply_json(req, 200, o);
}

/* http_message_routes - the message routes */
void
http_message_routes(struct http_api *api)
{
	http_route(api, "GET", "/api/v1/messages", messages_get, true);
	http_route(api, "DELETE", "/api/v1/messages", messages_delete, true);
	http_route(api, "GET", "/api/v1/messages/", message_get, false);
}
