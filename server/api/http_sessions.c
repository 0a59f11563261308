/*
 * http_sessions.c - GET /api/v1/sessions (filters: profile, client,
 * state, rule, since), GET /api/v1/sessions/{id} (with every event) and
 * GET /api/v1/profiles (the current one, and every profile the search
 * path offers).
 *
 * Does: check the query, ask the hub; list the profile dirs as
 * --list-profiles does, loading each file to give its kind and
 * description ("extends" read from the file's top-level mapping). Does
 * not: keep anything (hub.c) or change the profile (http_control.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <yaml.h>

#include "http_int.h"
#include "hub.h"
#include "profile.h"
#include "server.h"

static void
sessions_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	struct hub_filter f = {
	    .profile = http_query(req, "profile"),
	    .client = http_query(req, "client"),
	    .state = http_query(req, "state"),
	    .rule = http_query(req, "rule"),
	};
	const char *since = http_query(req, "since");

	if (f.state != NULL && strcmp(f.state, "open") != 0 &&
	    strcmp(f.state, "closed") != 0) {
		http_error(req, 400, "state: open or closed");
		return;
	}
	if (since != NULL) {
		if (hub_time_ms(since, &f.since_ms) != 0) {
			http_error(req, 400,
			           "since: an ISO-8601 time, e.g. "
			           "2026-11-23T12:00:01Z");
			return;
		}
		f.has_since = true;
	}
	http_reply_json(req, 200, hub_sessions_json(api->hub, &f));
}

static void
session_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	char *end;
	unsigned long id;
	json_t *o;

	errno = 0;
	id = strtoul(rest, &end, 10);
	if (*rest < '0' || *rest > '9' || *end != '\0' || errno != 0) {
		http_error(req, 404, "no such session");
		return;
	}
	if ((o = hub_session_json(api->hub, id)) == NULL) {
		http_error(req, 404, "no such session");
		return;
	}
	http_reply_json(req, 200, o);
}

/* The scalar under the top-level key "extends", or NULL (malloc'ed). */
static char *
yaml_extends(const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0;
	bool key = true, want = false, done = false;
	char *out = NULL;

	if (f == NULL)
		return NULL;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done && yaml_parser_parse(&p, &ev)) {
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 1 && !key)
				key = true; /* a nested value */
			else if (depth == 1)
				want = false;
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1)
				break;
			if (key) {
				want = strcmp((char *)ev.data.scalar.value,
				              "extends") == 0;
			} else if (want) {
				out = strdup((char *)ev.data.scalar.value);
				done = true;
			}
			key = !key;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return out;
}

static bool
listed(const json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")),
		           name) == 0)
			return true;
	return false;
}

static void
list_dir(struct http_api *api, const char *dir, bool boxes, json_t *list)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);
		char path[PATH_MAX], name[256], err[512];
		struct profile *p;
		json_t *o;
		char *ext;

		if (de->d_name[0] == '.' || len <= 5 || len >= sizeof(name) ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (listed(list, name))
			continue; /* an earlier dir of the path wins */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		p = boxes ? profile_load_middlebox(
		                path, (const char *const *)api->profile_dirs,
		                api->nprofile_dirs, err, sizeof(err))
		          : profile_load(path,
		                         (const char *const *)api->profile_dirs,
		                         api->nprofile_dirs, err, sizeof(err));
		if (p == NULL && !boxes)
			p = profile_load_middlebox(
			    path, (const char *const *)api->profile_dirs,
			    api->nprofile_dirs, err, sizeof(err));
		o = json_object();
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "kind",
		                    json_string(p == NULL         ? "invalid"
		                                : p->mbox != NULL ? "middlebox"
		                                : p->scenario     ? "scenario"
		                                                  : "server"));
		json_object_set_new(o, "description",
		                    json_string(p != NULL && p->description
		                                    ? p->description
		                                : p != NULL ? ""
		                                            : err));
		ext = yaml_extends(path);
		json_object_set_new(o, "extends",
		                    ext ? json_string(ext) : json_null());
		free(ext);
		json_object_set_new(o, "path", json_string(path));
		json_array_append_new(list, o);
		if (p != NULL)
			profile_unref(p);
	}
	closedir(dh);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(
	    json_string_value(json_object_get(*(json_t **)a, "name")),
	    json_string_value(json_object_get(*(json_t **)b, "name")));
}

static void
profiles_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	json_t *list = json_array(), *o = json_object(), *sorted;
	json_t **v;
	size_t n;

	for (size_t i = 0; i < api->nprofile_dirs; i++) {
		char sub[PATH_MAX];

		list_dir(api, api->profile_dirs[i], false, list);
		snprintf(sub, sizeof(sub), "%s/middleboxes",
		         api->profile_dirs[i]);
		list_dir(api, sub, true, list);
	}
	n = json_array_size(list);
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v != NULL && i < n; i++)
		v[i] = json_array_get(list, i);
	if (v != NULL)
		qsort(v, n, sizeof(*v), by_name);
	sorted = json_array();
	for (size_t i = 0; v != NULL && i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_decref(list);
	pthread_mutex_lock(&api->srv->lock);
	json_object_set_new(o, "current", json_string(api->srv->profile->name));
	pthread_mutex_unlock(&api->srv->lock);
	json_object_set_new(o, "profiles", sorted);
	http_reply_json(req, 200, o);
}

/* http_session_routes - sessions and profiles */
void
http_session_routes(struct http_api *api)
{
	http_route(api, "GET", "/api/v1/sessions", sessions_get, true);
	http_route(api, "GET", "/api/v1/sessions/", session_get, false);
	http_route(api, "GET", "/api/v1/profiles", profiles_get, true);
}
