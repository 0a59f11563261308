/*
 * http_static.c - the files the HTTP API serves as they are: the web view
 * (GET / -> index.html, /app.js, /style.css) and the OpenAPI description
 * (GET /api/v1/openapi.json).
 *
 * Does: find the web directory like the profiles are found: --web-root,
 * else BIN/../share/smtp-mimic/web next to the binary, the configured
 * install dir, then the source tree (the first holding index.html); the
 * same places for openapi.json. Only those three files, by a fixed table:
 * no other path reaches the file system, no directory listing. Does not:
 * build the page (server/web/).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http_int.h"

#define HTTP_CSP                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"connect-src 'self'; img-src 'self'; base-uri 'none'; "                \
	"form-action 'none'; frame-ancestors 'none'"

static const struct {
	const char *path, *file, *ctype;
} web_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* BIN/../share/smtp-mimic/REL, from /proc/self/exe */
static bool
next_to_binary(const char *rel, char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return false;
	*slash = '\0';
	return snprintf(out, len, "%s/../share/smtp-mimic/%s", exe, rel) <
	       (int)len;
}

/* The first of the places holding probe (a file under the dir, or ""). */
static void
find(char *out, size_t len, const char *rel, const char *installed,
     const char *source, const char *probe)
{
	char cand[PATH_MAX + 32];
	const char *fixed[] = {installed, source};

	if (next_to_binary(rel, out, len)) {
		snprintf(cand, sizeof(cand), "%s%s", out, probe);
		if (is_file(cand))
			return;
	}
	for (size_t i = 0; i < 2; i++) {
		snprintf(cand, sizeof(cand), "%s%s", fixed[i], probe);
		if (is_file(cand)) {
			snprintf(out, len, "%s", fixed[i]);
			return;
		}
	}
	out[0] = '\0';
}

/* http_static_find - where the web view and openapi.json are */
void
http_static_find(struct http_api *api, const char *web_root)
{
	if (web_root != NULL)
		snprintf(api->web_dir, sizeof(api->web_dir), "%s", web_root);
	else
		find(api->web_dir, sizeof(api->web_dir), "web",
		     SMTP_MIMIC_WEB_DIR, SMTP_MIMIC_SOURCE_WEB_DIR,
		     "/index.html");
	find(api->openapi, sizeof(api->openapi), "openapi.json",
	     SMTP_MIMIC_OPENAPI, SMTP_MIMIC_SOURCE_OPENAPI, "");
}

static void
send_file(struct evhttp_request *req, const char *path, const char *ctype,
          const char *missing)
{
	struct evbuffer *b;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fd != -1)
			close(fd);
		http_error(req, 404, missing);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		close(fd);
		http_error(req, 503, "out of memory");
		return;
	}
	if (st.st_size == 0)
		close(fd);
	else if (evbuffer_add_file(b, fd, 0, st.st_size) == -1) {
		evbuffer_free(b);
		http_error(req, 503, "cannot read the file");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Type", ctype);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "X-Content-Type-Options", "nosniff");
	/* The page runs only its own script and style and talks only to this
	 * server, so transcript text can never become code, whatever slips
	 * past app.js's text-only insertion; it is never framed. */
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Security-Policy", HTTP_CSP);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Referrer-Policy", "no-referrer");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
web_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	const char *path =
	    evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char file[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++) {
		if (strcmp(path, web_files[i].path) != 0)
			continue;
		if (api->web_dir[0] == '\0') {
			http_error(req, 404,
			           "no web view found (--web-root DIR)");
			return;
		}
		snprintf(file, sizeof(file), "%s/%s", api->web_dir,
		         web_files[i].file);
		send_file(req, file, web_files[i].ctype,
		          "no web view found (--web-root DIR)");
		return;
	}
	http_error(req, 404, "no such route");
}

static void
openapi_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	send_file(req, api->openapi, "application/json",
	          "openapi.json is not installed");
}

/* http_static_routes - the web view and the OpenAPI description */
void
http_static_routes(struct http_api *api)
{
	http_route(api, "GET", "/api/v1/openapi.json", openapi_get, true);
	for (size_t i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++)
		http_route_open(api, "GET", web_files[i].path, web_get);
}
