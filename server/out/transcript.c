/*
 * transcript.c - every event to a readable sink (stderr) and/or JSON Lines.
 *
 * Readable lines are "HH:MM:SS.mmm [s7] C: EHLO gw.test" (UTC, like the
 * JSON "time"), with the event kind spelled as connect/close/C:/S:/
 * "! rule NAME: WHY"/"*"/"* warning:" and the text escaped by
 * transcript_escape(). A TR_CONNECT or TR_CLOSE event carries only what
 * follows the word: "1.2.3.4:5 -> 6.7.8.9:25 profile=x", "fin (...)".
 * A line that did not cross (ev->lost) ends with "   [not delivered:
 * WHY]" and carries "delivered":false and "lost" in JSON. JSON objects are
 * built with jansson; text that is not UTF-8, or holds a NUL byte, is sent
 * escaped with the raw bytes in "hex". Every JSON line starts with "schema"
 * (TR_SCHEMA); an event's fields object (connect, close, tls, accepted) is
 * merged after the common keys. One mutex per process keeps lines whole
 * when worker threads share the sinks. A readable line is written and flushed
 * at once (a trainer watches it live); JSON lines are built outside the lock
 * and go through a 64 KiB stdio buffer that is emptied when a session ends (its
 * close line), by transcript_flush() (server.c: every 100 ms) and by
 * transcript_close() -- one write per event cost a quarter of the throughput.
 *
 * Not here: deciding what to record (session.c), log messages (log.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "transcript.h"
#include "transcript_line.h"
#include "utf8.h"

#define TR_STACK_BUF 2048

static struct {
	pthread_mutex_t lock;
	bool readable;
	bool verbose;
	FILE *json;          /* NULL: no JSON sink */
	bool json_stdout;    /* json is stdout: flush, never close */
	char *json_path;     /* for the one warning when writing fails */
	bool json_write_err; /* that warning was given */
	bool json_dirty;     /* buffered lines not flushed yet */
	struct {
		tr_tap_fn fn;
		tr_tap_ev_fn evfn;
		void *arg;
	} taps[TR_TAPS_MAX];
	size_t ntaps; /* set before the workers start: read without lock */
	size_t nev;   /* of them, with an event function */
} tr = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static const char *const tr_kind_names[TR_COUNT] = {
    [TR_CONNECT] = "connect",
    [TR_CLOSE] = "close",
    [TR_CLIENT] = "C",
    [TR_SERVER] = "S",
    [TR_RULE] = "rule",
    [TR_INFO] = "info",
    [TR_DETAIL] = "detail",
    [TR_WARN] = "warn",
    [TR_TLS] = "tls",
    [TR_CLIENT_SAW] = "client_saw",
    [TR_SERVER_GOT] = "server_got",
};

/* tr_kind_str - the "dir" field in JSON: "connect","close","C","S",... */
const char *
tr_kind_str(enum tr_kind kind)
{
	if ((unsigned)kind >= TR_COUNT)
		return "?";
	return tr_kind_names[kind];
}

/* tr_kind_from_str - the kind whose "dir" is dir, or TR_COUNT */
enum tr_kind
tr_kind_from_str(const char *dir)
{
	for (int k = 0; dir != NULL && k < TR_COUNT; k++)
		if (strcmp(dir, tr_kind_names[k]) == 0)
			return k;
	return TR_COUNT;
}

/*
 * True if s can go into "text" as is: UTF-8 without NUL, since a NUL
 * (\u0000) breaks C consumers and jansson's own parser refuses it.
 */
static bool
json_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] == '\0' || (n = utf8_seq(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* transcript_escape - printable form of raw bytes, truncated safely */
char *
transcript_escape(const char *in, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0, n;
	char tmp[4];

	if (outlen == 0)
		return out;
	while (i < len) {
		const char *piece = tmp;
		size_t plen;

		n = utf8_seq(p + i, len - i);
		if (n > 1 && !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			/* printable multibyte: as is (C1 controls are not) */
			piece = in + i;
			plen = n;
		} else {
			unsigned char c = p[i];
			n = 1;
			plen = 2;
			tmp[0] = '\\';
			if (c == '\r')
				tmp[1] = 'r';
			else if (c == '\n')
				tmp[1] = 'n';
			else if (c == '\t')
				tmp[1] = 't';
			else if (c == '\\')
				tmp[1] = '\\';
			else if (c >= 0x20 && c < 0x7f)
				tmp[0] = (char)c, plen = 1;
			else {
				tmp[1] = 'x';
				tmp[2] = hex[c >> 4];
				tmp[3] = hex[c & 0xf];
				plen = 4;
			}
		}
		if (o + plen > outlen - 1)
			break; /* never half an escape or a character */
		memcpy(out + o, piece, plen);
		o += plen;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static void
hexify(const char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		out[2 * i] = hex[c >> 4];
		out[2 * i + 1] = hex[c & 0xf];
	}
	out[2 * len] = '\0';
}

/*
 * The common event (valid text, no rule, why or hex, a profile) reuses one
 * object per thread whose values are replaced in place: building a fresh
 * object cost about fifteen allocations per event. Same keys, same order
 * as event_json() gives.
 */
struct json_reuse {
	json_t *o, *schema, *time, *session, *dir, *text, *profile;
	const char *last_dir, *last_profile;
};

static pthread_key_t json_reuse_key;
static pthread_once_t json_reuse_once = PTHREAD_ONCE_INIT;

static void
json_reuse_free(void *arg)
{
	struct json_reuse *r = arg;

	json_decref(r->o);
	free(r);
}

static void
json_reuse_init(void)
{
	pthread_key_create(&json_reuse_key, json_reuse_free);
}

static struct json_reuse *
json_reuse_get(void)
{
	struct json_reuse *r;

	pthread_once(&json_reuse_once, json_reuse_init);
	if ((r = pthread_getspecific(json_reuse_key)) != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->o = json_object();
	r->schema = json_integer(TR_SCHEMA);
	r->time = json_string_nocheck("");
	r->session = json_integer(0);
	r->dir = json_string_nocheck("");
	r->text = json_string_nocheck("");
	r->profile = json_string_nocheck("");
	/* json_object_set (not _new): r keeps its own references. */
	if (r->o == NULL || r->schema == NULL || r->time == NULL ||
	    r->session == NULL || r->dir == NULL || r->text == NULL ||
	    r->profile == NULL ||
	    json_object_set(r->o, "schema", r->schema) != 0 ||
	    json_object_set(r->o, "time", r->time) != 0 ||
	    json_object_set(r->o, "session", r->session) != 0 ||
	    json_object_set(r->o, "dir", r->dir) != 0 ||
	    json_object_set(r->o, "text", r->text) != 0 ||
	    json_object_set(r->o, "profile", r->profile) != 0 ||
	    pthread_setspecific(json_reuse_key, r) != 0) {
		json_decref(r->o);
		free(r);
		return NULL;
	}
	/* The object holds the references from now on. */
	json_decref(r->schema);
	json_decref(r->time);
	json_decref(r->session);
	json_decref(r->dir);
	json_decref(r->text);
	json_decref(r->profile);
	return r;
}

/* The reused object filled with ev, or NULL when ev needs event_json(). */
static json_t *
json_reuse_fill(const struct tr_event *ev, const char *when)
{
	const char *text = ev->text != NULL ? ev->text : "";
	size_t len = ev->text != NULL ? ev->len : 0;
	const char *dir = tr_kind_str(ev->kind);
	struct json_reuse *r;

	if (ev->rule != NULL || ev->why != NULL || ev->profile == NULL ||
	    ev->lost != NULL || ev->fields != NULL ||
	    !json_text_ok(text, len) || (r = json_reuse_get()) == NULL)
		return NULL;
	if (json_string_set_nocheck(r->time, when) != 0 ||
	    json_integer_set(r->session, (json_int_t)ev->session) != 0 ||
	    json_string_setn_nocheck(r->text, text, len) != 0)
		return NULL;
	if (dir != r->last_dir) {
		if (json_string_set_nocheck(r->dir, dir) != 0)
			return NULL;
		r->last_dir = dir;
	}
	if (ev->profile != r->last_profile) {
		if (json_string_set_nocheck(r->profile, ev->profile) != 0)
			return NULL;
		r->last_profile = ev->profile;
	}
	return r->o;
}

static void
tr_close_locked(void)
{
	if (tr.json != NULL) {
		if (tr.json_stdout)
			fflush(tr.json);
		else
			fclose(tr.json);
	}
	tr.json = NULL;
	tr.json_stdout = false;
	free(tr.json_path);
	tr.json_path = NULL;
	tr.json_write_err = false;
	tr.json_dirty = false;
	tr.readable = false;
	tr.verbose = false;
}

/* The JSON file, for appending. Opened before root is dropped (--user),
 * so as root a symbolic link is not followed: a link planted in a shared
 * directory would otherwise have root append to whatever it names. */
static FILE *
transcript_fopen(const char *path, char *err, size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
	int fd;
	FILE *fp;

	if (geteuid() == 0)
		flags |= O_NOFOLLOW;
	if ((fd = open(path, flags, 0644)) == -1) {
		if (errno == ELOOP && (flags & O_NOFOLLOW))
			snprintf(err, errlen,
			         "it is a symbolic link, which smtp-mimic does "
			         "not follow as root; name the file itself");
		else
			snprintf(err, errlen, "cannot open it: %s",
			         strerror(errno));
		return NULL;
	}
	if ((fp = fdopen(fd, "a")) == NULL) {
		snprintf(err, errlen, "cannot open it: %s", strerror(errno));
		close(fd);
	}
	return fp;
}

/* transcript_open - set the sinks: stderr if readable, JSON to json_path */
int
transcript_open(bool readable, bool verbose, const char *json_path, char *err,
                size_t errlen)
{
	FILE *fp = NULL;
	char *path = NULL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (json_path != NULL) {
		if (strcmp(json_path, "-") == 0)
			fp = stdout;
		else if ((fp = transcript_fopen(json_path, err, errlen)) ==
		         NULL)
			return -1;
		if (fp != stdout)
			setvbuf(fp, NULL, _IOFBF, 65536);
		if ((path = strdup(json_path)) == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			if (fp != stdout)
				fclose(fp);
			return -1;
		}
	}
	pthread_mutex_lock(&tr.lock);
	tr_close_locked();
	tr.readable = readable;
	tr.verbose = verbose;
	tr.json = fp;
	tr.json_stdout = fp == stdout;
	tr.json_path = path;
	pthread_mutex_unlock(&tr.lock);
	return 0;
}

/* transcript_close - flush and close the sinks; emits are dropped after */
void
transcript_close(void)
{
	struct json_reuse *r;

	/* Worker threads free theirs when they end (the key's destructor);
	 * this is the calling thread's. */
	pthread_once(&json_reuse_once, json_reuse_init);
	if ((r = pthread_getspecific(json_reuse_key)) != NULL) {
		pthread_setspecific(json_reuse_key, NULL);
		json_reuse_free(r);
	}
	pthread_mutex_lock(&tr.lock);
	tr_close_locked();
	pthread_mutex_unlock(&tr.lock);
}

static void
emit_readable(const struct tr_event *ev, const struct tm *tm, int ms)
{
	char stack[TR_STACK_BUF], *line = stack, *esc;
	size_t esclen = 4 * ev->len + 1, cap, o;
	const char *rule = ev->rule != NULL ? ev->rule : "?";
	const char *why = ev->why != NULL ? ev->why : "";

	/* rule and why, or " (rule NAME)": one of them, never both; and
	 * the not-delivered mark */
	cap = esclen + strlen(rule) + strlen(why) + 64 +
	      (ev->lost != NULL ? strlen(ev->lost) + 24 : 0);
	if (cap > sizeof(stack) && (line = malloc(cap)) == NULL)
		return;

	if (log_journal()) /* the journal stamps every line itself */
		o = (size_t)snprintf(line, cap, "[s%lu] ", ev->session);
	else
		o = (size_t)snprintf(line, cap, "%02d:%02d:%02d.%03d [s%lu] ",
		                     tm->tm_hour, tm->tm_min, tm->tm_sec, ms,
		                     ev->session);
	switch (ev->kind) {
	case TR_CONNECT:
		o += (size_t)snprintf(line + o, cap - o, "connect ");
		break;
	case TR_CLOSE:
		o += (size_t)snprintf(line + o, cap - o, "close ");
		break;
	case TR_CLIENT:
		o += (size_t)snprintf(line + o, cap - o, "C: ");
		break;
	case TR_SERVER:
		o += (size_t)snprintf(line + o, cap - o, "S: ");
		break;
	case TR_RULE:
		o += (size_t)snprintf(line + o, cap - o, "! rule %s: %s%s",
		                      rule, why, ev->len > 0 ? " -- " : "");
		break;
	case TR_INFO:
	case TR_DETAIL:
		o += (size_t)snprintf(line + o, cap - o, "* ");
		break;
	case TR_TLS:
		o += (size_t)snprintf(line + o, cap - o, "TLS: ");
		break;
	case TR_CLIENT_SAW:
		o += (size_t)snprintf(line + o, cap - o,
		                      "   \u21b3 client saw: ");
		break;
	case TR_SERVER_GOT:
		o += (size_t)snprintf(line + o, cap - o,
		                      "   \u21b3 server got: ");
		break;
	case TR_WARN:
	default:
		o += (size_t)snprintf(line + o, cap - o, "* warning: ");
		break;
	}
	esc = line + o;
	transcript_escape(ev->text != NULL ? ev->text : "",
	                  ev->text != NULL ? ev->len : 0, esc, cap - o);
	o += strlen(esc);
	if ((ev->kind == TR_CLIENT_SAW || ev->kind == TR_SERVER_GOT) &&
	    ev->rule != NULL)
		o += (size_t)snprintf(line + o, cap - o, "   (%s: %s)",
		                      ev->rule, why);
	else if (ev->kind != TR_RULE && ev->rule != NULL)
		o +=
		    (size_t)snprintf(line + o, cap - o, " (rule %s)", ev->rule);
	if (ev->lost != NULL)
		o += (size_t)snprintf(line + o, cap - o,
		                      "   [not delivered: %s]", ev->lost);
	line[o++] = '\n';
	fwrite(line, 1, o, stderr);
	fflush(stderr);
	if (line != stack)
		free(line);
}

static json_t *
event_json(const struct tr_event *ev, const char *when)
{
	const char *text = ev->text != NULL ? ev->text : "";
	size_t len = ev->text != NULL ? ev->len : 0;
	json_t *o = json_object(), *t = NULL, *h = NULL;
	char *buf = NULL;
	int bad = 0;

	if (o == NULL)
		return NULL;
	if (len > SIZE_MAX / 4 - 1) {
		json_decref(o);
		return NULL;
	}
	if (json_text_ok(text, len))
		t = json_stringn(text, len);
	if (t == NULL && (buf = malloc(4 * len + 1)) != NULL) {
		t = json_string(transcript_escape(text, len, buf, 4 * len + 1));
		hexify(text, len, buf); /* 2 * len + 1 fits */
		h = json_string(buf);
		free(buf);
		if (h == NULL)
			bad = 1;
	}
	bad |= json_object_set_new(o, "schema", json_integer(TR_SCHEMA));
	bad |= json_object_set_new(o, "time", json_string(when));
	bad |= json_object_set_new(o, "session", json_integer(ev->session));
	bad |=
	    json_object_set_new(o, "dir", json_string(tr_kind_str(ev->kind)));
	bad |= json_object_set_new(o, "text", t);
	if (h != NULL)
		bad |= json_object_set_new(o, "hex", h);
	if (ev->rule != NULL)
		bad |= json_object_set_new(o, "rule", json_string(ev->rule));
	if (ev->why != NULL)
		bad |= json_object_set_new(o, "why", json_string(ev->why));
	if (ev->profile != NULL)
		bad |=
		    json_object_set_new(o, "profile", json_string(ev->profile));
	if (ev->lost != NULL) {
		bad |= json_object_set_new(o, "delivered", json_false());
		bad |= json_object_set_new(o, "lost", json_string(ev->lost));
	}
	/* The facts: their values are shared (incref), not copied. */
	if (ev->fields != NULL)
		bad |= json_object_update(o, (json_t *)ev->fields);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One JSON line with its newline, built without the lock: in stack (cap
 * bytes) or malloc'ed; *len 0 on failure. */
static char *
json_line(const struct tr_event *ev, const char *when, char *stack, size_t cap,
          size_t *len)
{
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	char *line = stack;
	json_t *o;

	/* Most lines need no jansson to write (transcript_line.c); the taps
	 * still get the object. */
	*len = tr_line_fast(ev, when, stack, cap - 1);
	if (*len != 0 && tr.ntaps == tr.nev) {
		for (size_t i = 0; i < tr.ntaps; i++)
			tr.taps[i].evfn(ev, when, line, *len, tr.taps[i].arg);
		line[(*len)++] = '\n';
		return line;
	}
	if ((o = json_reuse_fill(ev, when)) != NULL)
		json_incref(o); /* the decref below keeps it alive */
	else if ((o = event_json(ev, when)) == NULL) {
		*len = 0;
		return stack;
	}
	if (*len == 0)
		*len = json_dumpb(o, stack, cap - 1, flags);
	if (*len >= cap - 1) {
		if ((line = malloc(*len + 1)) == NULL) {
			json_decref(o);
			*len = 0;
			return stack;
		}
		*len = json_dumpb(o, line, *len, flags);
	}
	for (size_t i = 0; *len != 0 && i < tr.ntaps; i++)
		tr.taps[i].fn(o, line, *len, tr.taps[i].arg);
	json_decref(o);
	if (*len != 0)
		line[(*len)++] = '\n';
	return line;
}

/* The JSON file refused a write: say so once. */
static void
json_failed_locked(void)
{
	if (!tr.json_write_err) {
		tr.json_write_err = true;
		log_warnx("transcript: cannot write %s: %s", tr.json_path,
		          strerror(errno));
	}
}

static void
json_flush_locked(void)
{
	if (tr.json == NULL || !tr.json_dirty)
		return;
	tr.json_dirty = false;
	if (fflush(tr.json) != 0)
		json_failed_locked();
}

static void
emit_json_locked(const char *line, size_t len)
{
	if (fwrite(line, 1, len, tr.json) == len)
		tr.json_dirty = true;
	else
		json_failed_locked();
}

/* transcript_emit - record one event in every sink that wants it */
void
transcript_emit(const struct tr_event *ev)
{
	/* The time of day changes once a second: format it once. */
	static _Thread_local time_t sec = -1;
	static _Thread_local struct tm tm;
	static _Thread_local char when[64];
	static _Thread_local size_t wlen;
	char stack[TR_STACK_BUF], *line = stack;
	struct timespec ts;
	size_t len = 0;
	int ms;

	/* The sinks are set before any worker starts: no lock needed to see
	 * that nobody listens (the hot path with -q and no --transcript). */
	if (!transcript_wants(ev->kind))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		sec = ts.tv_sec;
		gmtime_r(&ts.tv_sec, &tm);
		wlen =
		    strftime(when, sizeof(when) - 6, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	ms = (int)(ts.tv_nsec / 1000000);
	when[wlen] = '.'; /* ".mmmZ", without a printf per event */
	when[wlen + 1] = (char)('0' + ms / 100);
	when[wlen + 2] = (char)('0' + ms / 10 % 10);
	when[wlen + 3] = (char)('0' + ms % 10);
	when[wlen + 4] = 'Z';
	when[wlen + 5] = '\0';
	if ((tr.json != NULL || tr.ntaps != 0) &&
	    (ev->kind != TR_DETAIL || tr.verbose))
		line = json_line(ev, when, stack, sizeof(stack), &len);
	pthread_mutex_lock(&tr.lock);
	if (tr.readable &&
	    (tr.verbose || (ev->kind != TR_INFO && ev->kind != TR_DETAIL)))
		emit_readable(ev, &tm, ms);
	if (tr.json != NULL && len != 0) {
		emit_json_locked(line, len);
		/* A session's lines are all out by the time it has ended. */
		if (ev->kind == TR_CLOSE)
			json_flush_locked();
	}
	pthread_mutex_unlock(&tr.lock);
	if (line != stack)
		free(line);
}

/* transcript_add_tap - one more consumer of every event as JSON */
int
transcript_add_tap(tr_tap_fn fn, void *arg)
{
	return transcript_add_tap_ev(fn, NULL, arg);
}

/* transcript_add_tap_ev - the same, the event itself when no JSON is needed */
int
transcript_add_tap_ev(tr_tap_fn fn, tr_tap_ev_fn evfn, void *arg)
{
	if (tr.ntaps == TR_TAPS_MAX)
		return -1;
	tr.taps[tr.ntaps].fn = fn;
	tr.taps[tr.ntaps].evfn = evfn;
	tr.taps[tr.ntaps].arg = arg;
	tr.ntaps++;
	if (evfn != NULL)
		tr.nev++;
	return 0;
}

/* transcript_flush - write out buffered JSON lines */
void
transcript_flush(void)
{
	pthread_mutex_lock(&tr.lock);
	json_flush_locked();
	pthread_mutex_unlock(&tr.lock);
}

/* transcript_wants - would an event of this kind be written anywhere? */
bool
transcript_wants(enum tr_kind kind)
{
	bool json = tr.json != NULL || tr.ntaps != 0;

	if (kind == TR_DETAIL)
		return tr.verbose && (json || tr.readable);
	return json || (tr.readable && (kind != TR_INFO || tr.verbose));
}

/* transcript_printf - record an event whose text is formatted */
void
transcript_printf(unsigned long session, enum tr_kind kind, const char *profile,
                  const char *fmt, ...)
{
	struct tr_event ev = {
	    .session = session, .kind = kind, .profile = profile};
	char stack[TR_STACK_BUF], *text = stack;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(stack)) {
		if ((text = malloc((size_t)n + 1)) == NULL)
			return;
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	ev.text = text;
	ev.len = (size_t)n;
	transcript_emit(&ev);
	if (text != stack)
		free(text);
}
