/*
 * grey_store.c - the policy state table: a hash of (kind, key) records
 * with a least-recently-seen list, one mutex, the postgrey decision, and
 * the state file (read at open, written atomically by grey_store_save).
 *
 * Does not: build keys, reply, or decide when to save (the server does,
 * every second and at exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "grey_file.h"
#include "grey_store.h"

struct grey_entry {
	struct grey_entry *hnext;       /* hash chain */
	struct grey_entry *prev, *next; /* most recently seen first */
	uint64_t hash;
	int64_t a, b; /* grey_file.h: first/count, last */
	enum grey_kind kind;
	size_t key_len;
	char key[]; /* NUL-terminated */
};

struct grey_store {
	pthread_mutex_t lock; /* the table and the counters below */
	struct grey_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t n;
	struct grey_entry *head, *tail;
	uint64_t gen;              /* bumped by every change */
	pthread_mutex_t save_lock; /* one save at a time, in gen order */
	uint64_t saved_gen;
	char *path; /* NULL: memory only */
};

/* grey_verdict_str - as the transcript says it */
const char *
grey_verdict_str(enum grey_verdict v)
{
	switch (v) {
	case GREY_DEFER_NEW:
		return "new";
	case GREY_DEFER_EARLY:
		return "early-retry";
	case GREY_PASS_DELAYED:
		return "delayed";
	case GREY_PASS_KNOWN:
		return "known";
	case GREY_PASS_AWL:
		return "awl";
	}
	return "?";
}

/* FNV-1a over the kind and the key. */
static uint64_t
key_hash(enum grey_kind kind, const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = (h ^ (unsigned char)kind) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
	return h;
}

static void
lru_unlink(struct grey_store *st, struct grey_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		st->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		st->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct grey_store *st, struct grey_entry *e)
{
	e->prev = NULL;
	e->next = st->head;
	if (st->head != NULL)
		st->head->prev = e;
	st->head = e;
	if (st->tail == NULL)
		st->tail = e;
}

static struct grey_entry **
chain_of(struct grey_store *st, uint64_t hash)
{
	return &st->buckets[hash & (st->nbuckets - 1)];
}

/* Remove e from the table and free it. */
static void
entry_drop(struct grey_store *st, struct grey_entry *e)
{
	struct grey_entry **pp = chain_of(st, e->hash);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(st, e);
	free(e);
	st->n--;
	st->gen++;
}

static struct grey_entry *
entry_find(struct grey_store *st, enum grey_kind kind, const char *key,
           size_t len, uint64_t hash)
{
	for (struct grey_entry *e = *chain_of(st, hash); e != NULL;
	     e = e->hnext)
		if (e->hash == hash && e->kind == kind && e->key_len == len &&
		    memcmp(e->key, key, len) == 0)
			return e;
	return NULL;
}

/* Double the buckets when the chains grow longer than one on average;
 * without memory the chains just get longer. */
static void
maybe_grow(struct grey_store *st)
{
	size_t nb = st->nbuckets * 2;
	struct grey_entry **b;

	if (st->n < st->nbuckets || (b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct grey_entry *e = st->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(st->buckets);
	st->buckets = b;
	st->nbuckets = nb;
}

/* Forget records unseen for longer than max_age, oldest first (a few
 * per call, so no attempt pays for a long sweep). */
static void
expire_some(struct grey_store *st, const struct grey_bounds *b, int64_t now)
{
	for (int i = 0; i < 8 && st->tail != NULL; i++) {
		if (now - st->tail->b <= b->max_age)
			break;
		entry_drop(st, st->tail);
	}
}

/* The record (kind, key), moved to the front; NULL when absent or
 * forgotten (unseen for longer than max_age). */
static struct grey_entry *
lookup(struct grey_store *st, const struct grey_bounds *b, enum grey_kind kind,
       const char *key, int64_t now)
{
	size_t len = strlen(key);
	uint64_t hash = key_hash(kind, key, len);
	struct grey_entry *e = entry_find(st, kind, key, len, hash);

	if (e == NULL)
		return NULL;
	if (now - e->b > b->max_age) {
		entry_drop(st, e);
		return NULL;
	}
	lru_unlink(st, e);
	lru_push(st, e);
	return e;
}

/* Set (kind, key) to a, b, making room at the bound; false without
 * memory (the attempt is then decided without being remembered). */
static bool
store_set(struct grey_store *st, size_t max_entries, enum grey_kind kind,
          const char *key, int64_t a, int64_t b)
{
	size_t len = strlen(key);
	uint64_t hash = key_hash(kind, key, len);
	struct grey_entry *e = entry_find(st, kind, key, len, hash), **pp;

	if (max_entries == 0 || max_entries > GREY_STORE_HARD_MAX)
		max_entries = GREY_STORE_HARD_MAX;
	if (e == NULL) {
		if (len == 0 || len > GREY_KEY_MAX)
			return false;
		while (st->n >= max_entries && st->tail != NULL)
			entry_drop(st, st->tail);
		if ((e = malloc(sizeof(*e) + len + 1)) == NULL)
			return false;
		e->hash = hash;
		e->kind = kind;
		e->key_len = len;
		memcpy(e->key, key, len + 1);
		e->prev = e->next = NULL;
		pp = chain_of(st, hash);
		e->hnext = *pp;
		*pp = e;
		st->n++;
		maybe_grow(st);
	} else
		lru_unlink(st, e);
	lru_push(st, e);
	e->a = a;
	e->b = b;
	st->gen++;
	return true;
}

/* Add one record read from the file (the file's order is oldest first,
 * so each goes to the front). */
static int
load_record(const struct grey_record *r, void *arg)
{
	struct grey_store *st = arg;

	if (!store_set(st, GREY_STORE_HARD_MAX, r->kind, r->key, r->a, r->b))
		return -2;
	return 0;
}

static int
load_file(struct grey_store *st, char *err, size_t errlen)
{
	struct stat sb;
	char *buf;
	char why[256];
	ssize_t got;
	size_t off = 0;
	int fd, rc;

	if ((fd = open(st->path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0; /* made by the first save */
		snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 ||
	    (buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
		close(fd);
		return -1;
	}
	while (off < (size_t)sb.st_size &&
	       (got = read(fd, buf + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)got;
	close(fd);
	rc = grey_file_parse(buf, off, load_record, st, why, sizeof(why));
	free(buf);
	if (rc == -2)
		snprintf(err, errlen, "%s: out of memory", st->path);
	else if (rc != 0)
		snprintf(err, errlen, "%s: %s", st->path, why);
	st->saved_gen = st->gen;
	return rc == 0 ? 0 : -1;
}

/* grey_store_open - an empty store, or the state file's */
struct grey_store *
grey_store_open(const char *path, char *err, size_t errlen)
{
	struct grey_store *st = calloc(1, sizeof(*st));

	if (st == NULL ||
	    (st->buckets = calloc(64, sizeof(*st->buckets))) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->nbuckets = 64;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->save_lock, NULL);
	if (path != NULL) {
		if ((st->path = strdup(path)) == NULL) {
			snprintf(err, errlen, "out of memory");
			grey_store_free(st);
			return NULL;
		}
		if (load_file(st, err, errlen) == -1) {
			grey_store_free(st);
			return NULL;
		}
	}
	return st;
}

/* grey_store_clear - forget everything */
void
grey_store_clear(struct grey_store *st)
{
	pthread_mutex_lock(&st->lock);
	while (st->tail != NULL)
		entry_drop(st, st->tail);
	st->gen++;
	pthread_mutex_unlock(&st->lock);
}

/* grey_store_free - the table and the store, not saved */
void
grey_store_free(struct grey_store *st)
{
	if (st == NULL)
		return;
	while (st->head != NULL) {
		struct grey_entry *e = st->head;

		st->head = e->next;
		free(e);
	}
	free(st->buckets);
	free(st->path);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->save_lock);
	free(st);
}

/* grey_store_path - the state file, or NULL */
const char *
grey_store_path(const struct grey_store *st)
{
	return st->path;
}

/* grey_store_size - records held now */
size_t
grey_store_size(struct grey_store *st)
{
	size_t n;

	pthread_mutex_lock(&st->lock);
	n = st->n;
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* The table as the file holds it, oldest first; NULL without memory. */
static struct evbuffer *
snapshot(struct grey_store *st, uint64_t *gen)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL || grey_file_header(out) == -1) {
		if (out != NULL)
			evbuffer_free(out);
		return NULL;
	}
	pthread_mutex_lock(&st->lock);
	*gen = st->gen;
	for (struct grey_entry *e = st->tail; e != NULL; e = e->prev) {
		struct grey_record r = {e->kind, e->a, e->b, e->key,
		                        e->key_len};

		if (grey_file_record(out, &r) == -1) {
			pthread_mutex_unlock(&st->lock);
			evbuffer_free(out);
			return NULL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return out;
}

/* fsync the directory holding path, so the rename survives a crash. */
static int
sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write out to path atomically: PATH.tmp, fsync, rename, fsync dir. */
static int
write_atomic(const char *path, struct evbuffer *out, char *err, size_t errlen)
{
	char tmp[4096];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	if (sync_dir(path) == -1) {
		snprintf(err, errlen, "%s: directory sync: %s", path,
		         strerror(errno));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* grey_store_save - write the table if it changed since the last save */
int
grey_store_save(struct grey_store *st, char *err, size_t errlen)
{
	struct evbuffer *out;
	uint64_t gen, now_gen;
	int rc = 0;

	if (st->path == NULL)
		return 0;
	pthread_mutex_lock(&st->save_lock);
	pthread_mutex_lock(&st->lock);
	now_gen = st->gen;
	pthread_mutex_unlock(&st->lock);
	if (now_gen == st->saved_gen) {
		pthread_mutex_unlock(&st->save_lock);
		return 0;
	}
	if ((out = snapshot(st, &gen)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", st->path);
		rc = -1;
	} else {
		rc = write_atomic(st->path, out, err, errlen);
		evbuffer_free(out);
		if (rc == 0)
			st->saved_gen = gen;
	}
	pthread_mutex_unlock(&st->save_lock);
	return rc;
}

/* grey_store_count - one more attempt of key */
uint64_t
grey_store_count(struct grey_store *st, const struct grey_bounds *b,
                 const char *key, int64_t now)
{
	struct grey_entry *e;
	int64_t n;

	pthread_mutex_lock(&st->lock);
	expire_some(st, b, now);
	e = lookup(st, b, GREY_COUNTER, key, now);
	n = e != NULL && e->a < INT64_MAX ? e->a + 1 : e != NULL ? e->a : 1;
	store_set(st, b->max_entries, GREY_COUNTER, key, n, now);
	pthread_mutex_unlock(&st->lock);
	return (uint64_t)n;
}

/*
 * The auto-whitelist's first half (postgrey: "whitelist if count is
 * enough"): true when the client passes at once.
 */
static bool
awl_pass(struct grey_store *st, const struct grey_policy *p,
         struct grey_entry *c, const char *client, int64_t now,
         struct grey_result *r)
{
	if (c == NULL || c->a < p->awl_clients)
		return false;
	/* postgrey counts on "for statistics", once an interval */
	if (now >= c->b + p->awl_interval || c->b > now)
		store_set(st, p->bounds.max_entries, GREY_CLIENT, client,
		          c->a + 1, now);
	r->verdict = GREY_PASS_AWL;
	r->awl_count = (unsigned)(c->a > UINT32_MAX ? UINT32_MAX : c->a);
	return true;
}

/* grey_store_check - one greylisting attempt, postgrey's way */
void
grey_store_check(struct grey_store *st, const struct grey_policy *p,
                 const char *triplet, const char *client, int64_t now,
                 struct grey_result *r)
{
	struct grey_entry *t, *c = NULL;
	int64_t first, c_count = 0, c_last = 0, diff;
	bool last_ok = false, have_c = false;

	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&st->lock);
	expire_some(st, &p->bounds, now);
	if (p->awl_clients != 0) {
		c = lookup(st, &p->bounds, GREY_CLIENT, client, now);
		if (awl_pass(st, p, c, client, now, r)) {
			pthread_mutex_unlock(&st->lock);
			return;
		}
		if (c != NULL) {
			have_c = true;
			c_count = c->a;
			c_last = c->b;
		}
	}
	if ((t = lookup(st, &p->bounds, GREY_TRIPLET, triplet, now)) != NULL) {
		first = t->a;
		if (t->b - t->a >= p->delay)
			last_ok = true;
		else if (now - first > p->retry_window)
			first = now; /* the first retry came too late */
		if (first > now)
			first = now; /* first seen in the future */
	} else
		first = now;
	store_set(st, p->bounds.max_entries, GREY_TRIPLET, triplet, first, now);
	diff = p->delay - (now - first);
	r->awl_count = (unsigned)(c_count > UINT32_MAX ? UINT32_MAX : c_count);
	/* passed after waiting: the client is counted, once an interval */
	if (p->awl_clients != 0 && diff <= 0 && !last_ok &&
	    (!have_c || now >= c_last + p->awl_interval)) {
		c_count++;
		store_set(st, p->bounds.max_entries, GREY_CLIENT, client,
		          c_count, now);
		r->awl_count =
		    (unsigned)(c_count > UINT32_MAX ? UINT32_MAX : c_count);
		r->awl_now = c_count == p->awl_clients;
	}
	pthread_mutex_unlock(&st->lock);
	if (diff > 0) {
		r->verdict = now != first ? GREY_DEFER_EARLY : GREY_DEFER_NEW;
		r->wait = diff;
	} else if (!last_ok) {
		r->verdict = GREY_PASS_DELAYED;
		r->delayed = now - first;
	} else
		r->verdict = GREY_PASS_KNOWN;
}
