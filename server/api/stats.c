/*
 * stats.c - the counters behind /metrics, --summary, --expect and
 * /api/v1/wait, fed by a transcript tap (see stats.h).
 *
 * Does: keep one row per (kind, profile, name, suite) in an array (the
 * order rows appeared) indexed by a small open-addressing hash, all under
 * one mutex; the tap reads the few fields it needs from the event object
 * and takes the lock only for connect, close, rule, tls and info events.
 * Does not: parse the readable text of an event (only the contracted JSON
 * fields), or keep anything of an event after counting it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "transcript.h"

struct stats {
	pthread_mutex_t lock;
	struct stats_row **rows; /* the order they appeared */
	size_t nrows, cap;
	size_t *slot;  /* hash: index + 1 into rows, 0 = empty */
	size_t nslots; /* a power of two, > 2 * nrows */
	uint64_t sessions, closed, messages;
	uint64_t window_messages, window_closed;
	struct stats_row bytes_in, bytes_out;
};

static const char *const kind_names[] = {
    [STATS_SESSIONS_TOTAL] = "sessions_total",
    [STATS_SESSIONS_OPEN] = "sessions_open",
    [STATS_MESSAGES] = "messages",
    [STATS_RULE] = "rule",
    [STATS_TLS] = "tls",
    [STATS_CLOSE] = "close",
    [STATS_BYTES_IN] = "bytes_in",
    [STATS_BYTES_OUT] = "bytes_out",
};

/* stats_kind_str - "sessions_total", "rule", ... */
const char *
stats_kind_str(enum stats_kind kind)
{
	if ((size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]))
		return kind_names[kind];
	return "?";
}

/* stats_new - zeroed counters, or NULL when out of memory */
struct stats *
stats_new(void)
{
	struct stats *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		return NULL;
	}
	st->bytes_in.kind = STATS_BYTES_IN;
	st->bytes_out.kind = STATS_BYTES_OUT;
	return st;
}

void
stats_free(struct stats *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nrows; i++)
		free(st->rows[i]);
	free(st->rows);
	free(st->slot);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* The const functions still take the lock. */
static pthread_mutex_t *
lock_of(const struct stats *st)
{
	return (pthread_mutex_t *)&st->lock;
}

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* FNV-1a over the kind and the three keys (NULL differs from ""). */
static size_t
row_hash(enum stats_kind kind, const char *profile, const char *name,
         const char *suite)
{
	const char *keys[3] = {profile, name, suite};
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)kind;

	for (size_t k = 0; k < 3; k++) {
		h = (h ^ (keys[k] == NULL ? 1u : 2u)) * 1099511628211ULL;
		for (const char *p = keys[k]; p != NULL && *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	}
	return (size_t)h;
}

static bool
row_is(const struct stats_row *r, enum stats_kind kind, const char *profile,
       const char *name, const char *suite)
{
	return r->kind == kind && same(r->profile, profile) &&
	       same(r->name, name) && same(r->suite, suite);
}

/* Rebuild the hash with room for twice the rows. */
static int
rehash(struct stats *st)
{
	size_t n = st->nslots ? st->nslots * 2 : 64;
	size_t *slot = calloc(n, sizeof(*slot));

	if (slot == NULL)
		return -1;
	for (size_t i = 0; i < st->nrows; i++) {
		const struct stats_row *r = st->rows[i];
		size_t h = row_hash(r->kind, r->profile, r->name, r->suite);
		while (slot[h & (n - 1)] != 0)
			h++;
		slot[h & (n - 1)] = i + 1;
	}
	free(st->slot);
	st->slot = slot;
	st->nslots = n;
	return 0;
}

/* A new row with its strings after it, in one allocation. */
static struct stats_row *
row_new(enum stats_kind kind, const char *profile, const char *name,
        const char *suite)
{
	const char *keys[3] = {profile, name, suite};
	size_t len[3], total = sizeof(struct stats_row);
	struct stats_row *r;
	char *p;

	for (size_t k = 0; k < 3; k++) {
		len[k] = keys[k] ? strlen(keys[k]) + 1 : 0;
		total += len[k];
	}
	if ((r = calloc(1, total)) == NULL)
		return NULL;
	r->kind = kind;
	p = (char *)(r + 1);
	for (size_t k = 0; k < 3; k++) {
		char *copy = NULL;
		if (keys[k] != NULL) {
			memcpy(p, keys[k], len[k]);
			copy = p;
			p += len[k];
		}
		if (k == 0)
			r->profile = copy;
		else if (k == 1)
			r->name = copy;
		else
			r->suite = copy;
	}
	return r;
}

/* The row for the keys, made when missing; NULL when out of memory (the
 * event is not counted then). With the lock held. */
static struct stats_row *
row_get(struct stats *st, enum stats_kind kind, const char *profile,
        const char *name, const char *suite)
{
	size_t h = row_hash(kind, profile, name, suite), i;
	struct stats_row *r;

	for (i = h; st->nslots && st->slot[i & (st->nslots - 1)] != 0; i++) {
		r = st->rows[st->slot[i & (st->nslots - 1)] - 1];
		if (row_is(r, kind, profile, name, suite))
			return r;
	}
	if (st->nrows == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 32;
		struct stats_row **rows =
		    realloc(st->rows, cap * sizeof(*rows));
		if (rows == NULL)
			return NULL;
		st->rows = rows;
		st->cap = cap;
	}
	if ((r = row_new(kind, profile, name, suite)) == NULL)
		return NULL;
	st->rows[st->nrows++] = r;
	if (2 * st->nrows >= st->nslots) {
		if (rehash(st) == -1) {
			free(r);
			st->nrows--;
			return NULL;
		}
		return r;
	}
	for (i = h; st->slot[i & (st->nslots - 1)] != 0; i++)
		;
	st->slot[i & (st->nslots - 1)] = st->nrows;
	return r;
}

static void
row_add(struct stats *st, enum stats_kind kind, const char *profile,
        const char *name, const char *suite, int64_t delta)
{
	struct stats_row *r = row_get(st, kind, profile, name, suite);

	if (r == NULL)
		return;
	if (delta < 0 && r->value < (uint64_t)-delta)
		r->value = 0; /* a close whose connect came before the tap */
	else
		r->value += (uint64_t)delta;
	if (kind == STATS_RULE)
		r->window++;
}

static const char *
str_field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A non-negative integer field, or 0. */
static uint64_t
uint_field(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* A "tls" event: only a completed handshake counts. */
static void
count_tls(struct stats *st, const json_t *o)
{
	const char *version = str_field(o, "version"), *suite;
	const json_t *js = json_object_get(o, "suite");

	if (!same(str_field(o, "event"), "handshake_done") || version == NULL)
		return;
	/* The contract's {"name", "hex"}; a bare name is taken too. */
	suite =
	    json_is_object(js) ? str_field(js, "name") : json_string_value(js);
	row_add(st, STATS_TLS, NULL, version, suite ? suite : "?", 1);
}

static void
count_close(struct stats *st, const json_t *o, const char *profile)
{
	const char *how = str_field(o, "how");

	st->closed++;
	st->window_closed++;
	row_add(st, STATS_SESSIONS_OPEN, profile, NULL, NULL, -1);
	if (how != NULL)
		row_add(st, STATS_CLOSE, NULL, how, NULL, 1);
	st->bytes_in.value += uint_field(o, "bytes_in");
	st->bytes_out.value += uint_field(o, "bytes_out");
}

/* Count one event: its kind, profile, rule and facts (the fields, or
 * the whole JSON object: the same members). */
static void
stats_event(struct stats *st, enum tr_kind kind, const char *profile,
            const char *rule, const json_t *f)
{
	/* Most events are C:/S: lines: out before the lock. */
	if (kind != TR_CONNECT && kind != TR_CLOSE && kind != TR_RULE &&
	    kind != TR_TLS && kind != TR_INFO)
		return;
	if (kind == TR_INFO && !same(str_field(f, "event"), "accepted"))
		return;
	if (kind == TR_TLS && !same(str_field(f, "event"), "handshake_done"))
		return;
	pthread_mutex_lock(&st->lock);
	switch (kind) {
	case TR_CLOSE:
		count_close(st, f, profile);
		break;
	case TR_CONNECT:
		st->sessions++;
		row_add(st, STATS_SESSIONS_TOTAL, profile, NULL, NULL, 1);
		row_add(st, STATS_SESSIONS_OPEN, profile, NULL, NULL, 1);
		break;
	case TR_RULE:
		if (rule != NULL)
			row_add(st, STATS_RULE, profile, rule, NULL, 1);
		break;
	case TR_TLS:
		count_tls(st, f);
		break;
	default: /* TR_INFO, accepted */
		st->messages++;
		st->window_messages++;
		row_add(st, STATS_MESSAGES, profile, NULL, NULL, 1);
		break;
	}
	pthread_mutex_unlock(&st->lock);
}

/* stats_tap - count one event (any thread), as its JSON object */
void
stats_tap(const struct json_t *o, const char *line, size_t len, void *arg)
{
	const char *dir = str_field(o, "dir");

	(void)line;
	(void)len;
	if (dir == NULL)
		return;
	stats_event(arg, tr_kind_from_str(dir), str_field(o, "profile"),
	            str_field(o, "rule"), o);
}

/* stats_tap_ev - the same, as the worker made it (no JSON object) */
void
stats_tap_ev(const struct tr_event *ev, const char *when, const char *line,
             size_t len, void *arg)
{
	(void)when;
	(void)line;
	(void)len;
	stats_event(arg, ev->kind, ev->profile, ev->rule, ev->fields);
}

/* stats_each - every row to fn, with the lock held */
void
stats_each(const struct stats *st,
           void (*fn)(const struct stats_row *row, void *arg), void *arg)
{
	pthread_mutex_lock(lock_of(st));
	fn(&st->bytes_in, arg);
	fn(&st->bytes_out, arg);
	for (size_t i = 0; i < st->nrows; i++)
		fn(st->rows[i], arg);
	pthread_mutex_unlock(lock_of(st));
}

static uint64_t
locked_read(const struct stats *st, const uint64_t *field)
{
	uint64_t v;

	pthread_mutex_lock(lock_of(st));
	v = *field;
	pthread_mutex_unlock(lock_of(st));
	return v;
}

uint64_t
stats_messages(const struct stats *st)
{
	return locked_read(st, &st->messages);
}

uint64_t
stats_sessions(const struct stats *st)
{
	return locked_read(st, &st->sessions);
}

uint64_t
stats_window_messages(const struct stats *st)
{
	return locked_read(st, &st->window_messages);
}

uint64_t
stats_window_closed(const struct stats *st)
{
	return locked_read(st, &st->window_closed);
}

/* Sum a rule's rows over the profiles: the total or the window. */
static uint64_t
rule_sum(const struct stats *st, const char *name, bool window)
{
	uint64_t n = 0;

	pthread_mutex_lock(lock_of(st));
	for (size_t i = 0; i < st->nrows; i++) {
		const struct stats_row *r = st->rows[i];
		if (r->kind == STATS_RULE && strcmp(r->name, name) == 0)
			n += window ? r->window : r->value;
	}
	pthread_mutex_unlock(lock_of(st));
	return n;
}

/* stats_rule - firings of the rule name, summed over the profiles */
uint64_t
stats_rule(const struct stats *st, const char *name)
{
	return rule_sum(st, name, false);
}

uint64_t
stats_window_rule(const struct stats *st, const char *name)
{
	return rule_sum(st, name, true);
}

/* stats_reset_window - zero the window counters, never the totals */
void
stats_reset_window(struct stats *st)
{
	pthread_mutex_lock(&st->lock);
	st->window_messages = 0;
	st->window_closed = 0;
	for (size_t i = 0; i < st->nrows; i++)
		st->rows[i]->window = 0;
	pthread_mutex_unlock(&st->lock);
}

/* o[key] += v, o[key] an integer made when missing. */
static int
add_int(json_t *o, const char *key, uint64_t v)
{
	json_t *old = json_object_get(o, key);
	json_int_t base = old ? json_integer_value(old) : 0;

	return json_object_set_new(o, key, json_integer(base + (json_int_t)v));
}

/* o[key] as an object, made when missing; NULL when out of memory. */
static json_t *
sub_object(json_t *o, const char *key)
{
	json_t *sub = json_object_get(o, key);

	if (sub == NULL && json_object_set_new(o, key, json_object()) == 0)
		sub = json_object_get(o, key);
	return sub;
}

/* The profiles object's entry for name, with its three counters. */
static json_t *
profile_entry(json_t *profiles, const char *name)
{
	json_t *p = json_object_get(profiles, name);

	if (p == NULL) {
		p = json_pack("{s:I,s:I,s:I,s:{}}", "sessions", (json_int_t)0,
		              "open", (json_int_t)0, "messages", (json_int_t)0,
		              "rules");
		if (p == NULL || json_object_set_new(profiles, name, p) != 0)
			return NULL;
	}
	return p;
}

/* One row into the summary; -1 when out of memory. */
static int
summary_row(json_t *sum, const struct stats_row *r)
{
	json_t *profiles = json_object_get(sum, "profiles"), *p, *t;
	const char *pname = r->profile ? r->profile : "?";

	switch (r->kind) {
	case STATS_SESSIONS_TOTAL:
		p = profile_entry(profiles, pname);
		return p ? add_int(p, "sessions", r->value) : -1;
	case STATS_SESSIONS_OPEN:
		p = profile_entry(profiles, pname);
		return p ? add_int(p, "open", r->value) : -1;
	case STATS_MESSAGES:
		p = profile_entry(profiles, pname);
		return p ? add_int(p, "messages", r->value) : -1;
	case STATS_RULE:
		if ((p = profile_entry(profiles, pname)) == NULL ||
		    add_int(json_object_get(p, "rules"), r->name, r->value) ==
		        -1)
			return -1;
		return add_int(json_object_get(sum, "rules"), r->name,
		               r->value);
	case STATS_TLS:
		t = sub_object(json_object_get(sum, "tls"), r->name);
		return t ? add_int(t, r->suite, r->value) : -1;
	case STATS_CLOSE:
		return add_int(json_object_get(sum, "closes"), r->name,
		               r->value);
	case STATS_BYTES_IN:
	case STATS_BYTES_OUT:
		break;
	}
	return 0;
}

/* stats_summary_json - everything counted since start, as one object */
json_t *
stats_summary_json(const struct stats *st)
{
	json_t *sum;
	int bad = 0;
	uint64_t open;

	pthread_mutex_lock(lock_of(st));
	open = st->sessions >= st->closed ? st->sessions - st->closed : 0;
	sum = json_pack("{s:{s:I,s:I,s:I},s:I,s:{},s:{},s:{},s:{},s:{s:I,s:I}}",
	                "sessions", "total", (json_int_t)st->sessions, "open",
	                (json_int_t)open, "closed", (json_int_t)st->closed,
	                "messages", (json_int_t)st->messages, "profiles",
	                "rules", "closes", "tls", "bytes", "in",
	                (json_int_t)st->bytes_in.value, "out",
	                (json_int_t)st->bytes_out.value);
	for (size_t i = 0; sum != NULL && i < st->nrows; i++)
		bad |= summary_row(sum, st->rows[i]);
	pthread_mutex_unlock(lock_of(st));
	if (bad) {
		json_decref(sum);
		return NULL;
	}
	return sum;
}

/* stats_window_json - the /api/v1/wait counters since the last reset */
json_t *
stats_window_json(const struct stats *st)
{
	json_t *w, *rules;
	int bad = 0;

	pthread_mutex_lock(lock_of(st));
	w = json_pack("{s:I,s:I,s:{}}", "messages",
	              (json_int_t)st->window_messages, "sessions_closed",
	              (json_int_t)st->window_closed, "rules");
	rules = w ? json_object_get(w, "rules") : NULL;
	for (size_t i = 0; rules != NULL && i < st->nrows; i++) {
		const struct stats_row *r = st->rows[i];
		if (r->kind == STATS_RULE && r->window > 0)
			bad |= add_int(rules, r->name, r->window);
	}
	pthread_mutex_unlock(lock_of(st));
	if (bad) {
		json_decref(w);
		return NULL;
	}
	return w;
}
