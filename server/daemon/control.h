/*
 * control.h - changing what new sessions get while the server runs: the
 * profile (by name or from YAML text), rules injected in front of its own
 * for the next N sessions or until deleted, a reset to the start profile,
 * and the SIGHUP reload under them.
 *
 * The server_* calls may come from any thread (the HTTP API's); they load
 * and validate outside the server's lock and swap under it. Sessions that
 * already run keep what they started with. Does not: speak HTTP
 * (api/http_control.c) or match rules (profile/rules.c).
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct profile;
struct server;
struct control;

/* The file name in errors about a request body. */
#define CONTROL_LABEL "<request>"

/*
 * server_use_profile - new sessions get another profile: is_yaml false,
 * name_or_yaml (len bytes) is a profile name looked up in the profile
 * search path like --profile NAME; true, it is a profile's YAML text,
 * whose "extends:" is looked up there too. Validated by the normal loader
 * and its TLS context built; injected rules stay in front of it. Returns
 * 0, or -1 with one line in err ("FILE:LINE:COL: reason", FILE
 * "<request>" for the text) and the old profile still in force.
 */
int server_use_profile(struct server *srv, const char *name_or_yaml, size_t len,
                       bool is_yaml, char *err, size_t errlen);

/*
 * server_add_rule - one rule in profile syntax (a YAML mapping as an item
 * of "rules:"), validated like a rule in a file (errors "<request>:L:C:
 * ..."), in front of the profile's rules (and of rules injected before
 * it) for the next `sessions` sessions accepted, or until deleted
 * (sessions -1). Returns 0 with its id ("r1", "r2", ...) in id_out, or
 * -1 with one line in err.
 */
int server_add_rule(struct server *srv, const char *yaml, size_t len,
                    long sessions, char *id_out, size_t idlen, char *err,
                    size_t errlen);

/* server_inject_rule - server_add_rule, with the rule's name in name_out
 * (a rule for 1 session may be used up before the caller could look) */
int server_inject_rule(struct server *srv, const char *yaml, size_t len,
                       long sessions, char *id_out, size_t idlen,
                       char *name_out, size_t namelen, char *err,
                       size_t errlen);

/* server_del_rule - remove an injected rule: 0, or -1 if not found */
int server_del_rule(struct server *srv, const char *id);

/*
 * server_rules_json - {"rules": [{"id", "name", "sessions" (as given,
 * null: until deleted), "sessions_left" (null: until deleted), "rule"
 * (the text as given)}, ...]} in the order they were added; new reference
 */
json_t *server_rules_json(struct server *srv);

/* server_reset - injected rules gone, the start profile back (as last
 * loaded: at start or by SIGHUP) */
void server_reset(struct server *srv);

/* server_profile_name - the name of the profile new sessions get */
void server_profile_name(struct server *srv, char *buf, size_t len);

/* Used by server.c: */

/* control_new - the control state of a server starting with profile */
struct control *control_new(struct profile *start);
void control_free(struct control *c);

/*
 * control_session_start - a session is being accepted and has taken
 * srv->profile: count it against the injected rules' sessions, and swap
 * in the profile without the ones used up. srv->lock held.
 */
void control_session_start(struct server *srv);

/*
 * control_reload - SIGHUP: reload the command line's profile (the start
 * profile, for new sessions unless another was chosen; one chosen by
 * name is reloaded too); injected rules stay in front. A failure is
 * logged and changes nothing.
 */
void control_reload(struct server *srv);

#endif
