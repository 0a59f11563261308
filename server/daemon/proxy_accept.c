/*
 * proxy_accept.c - accepted connections waiting for their PROXY protocol
 * header, before they become sessions (--proxy-protocol).
 *
 * Does: per connection, one read event with a deadline (the profile's
 * idle timeout from the accept, not from the last byte); each time bytes
 * arrive they are peeked at (recv MSG_PEEK) and parsed from the start of
 * the header. A valid prefix that is not yet a whole header is all
 * header, so it is taken off the socket and kept; a whole header takes
 * off only its remaining bytes (hdr.consumed in all), which leaves the
 * client's first SMTP or TLS bytes in the kernel for io.c. A header
 * longer than PROXY_ACCEPT_CAP, garbage, EOF, an error or the timeout end
 * the connection: a warning naming the socket's peer and the reason, a
 * connect and a close event ("proxy protocol: REASON"), and a FIN after
 * the unread bytes are drained (closing with unread data would be a RST).
 * Does not: parse (proto/proxy_proto.c), count or limit sessions, greet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "proxy_accept.h"
#include "proxy_proto.h"
#include "transcript.h"
#include "transcript_facts.h"

struct proxy_wait {
	TAILQ_ENTRY(proxy_wait) entry;
	struct proxy_accept *pa;
	evutil_socket_t fd;
	struct event *ev;
	struct sockaddr_storage peer, local; /* the socket's */
	bool tls;
	enum reply_id refuse;
	char *profile;
	unsigned char buf[PROXY_ACCEPT_CAP];
	size_t have; /* header bytes already taken off the socket */
	bool deadline_set;
	struct timeval deadline; /* the whole header by then */
};

TAILQ_HEAD(proxy_wait_list, proxy_wait);

struct proxy_accept {
	struct event_base *base;
	unsigned mask;
	atomic_ulong *next_id;
	atomic_uint *waiting; /* every worker's, or NULL */
	proxy_accept_done_fn done;
	void *owner;
	struct proxy_wait_list waits;
	size_t n;
};

/* proxy_accept_new - waiting connections on base for the versions in mask */
struct proxy_accept *
proxy_accept_new(struct event_base *base, unsigned mask, atomic_ulong *next_id,
                 atomic_uint *waiting, proxy_accept_done_fn done, void *owner)
{
	struct proxy_accept *pa;

	if ((pa = calloc(1, sizeof(*pa))) == NULL)
		return NULL;
	pa->base = base;
	pa->mask = mask;
	pa->next_id = next_id;
	pa->waiting = waiting;
	pa->done = done;
	pa->owner = owner;
	TAILQ_INIT(&pa->waits);
	return pa;
}

static size_t
sa_size(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in);
}

static void
wait_free(struct proxy_wait *w)
{
	TAILQ_REMOVE(&w->pa->waits, w, entry);
	w->pa->n--;
	if (w->pa->waiting != NULL)
		atomic_fetch_sub(w->pa->waiting, 1);
	event_free(w->ev);
	free(w->profile);
	free(w);
}

/* The transcript of a connection that never became a session: who
 * connected (the socket's peer: the balancer, or whoever it was) and why
 * it was closed. */
static void
wait_events(struct proxy_wait *w, const char *reason, size_t bytes_in)
{
	unsigned long id = atomic_fetch_add(w->pa->next_id, 1) + 1;
	struct tr_event ev = {.session = id, .profile = w->profile};
	struct tr_connect c = {.client = (const struct sockaddr *)&w->peer,
	                       .server = (const struct sockaddr *)&w->local,
	                       .tls_listener = w->tls,
	                       .profile = w->profile};
	char text[512];
	json_t *f;
	int n;

	if (transcript_wants(TR_CONNECT)) {
		f = tr_connect_fields(&c, text, sizeof(text));
		ev.kind = TR_CONNECT;
		ev.fields = f;
		ev.text = text;
		ev.len = strlen(text);
		transcript_emit(&ev);
		json_decref(f);
	}
	if (transcript_wants(TR_CLOSE)) {
		char why[256];

		snprintf(why, sizeof(why), "proxy protocol: %s", reason);
		f = tr_close_fields("fin", why, NULL, bytes_in, 0, 0);
		n = snprintf(text, sizeof(text), "fin (%s)", why);
		ev.kind = TR_CLOSE;
		ev.fields = f;
		ev.text = text;
		ev.len = n > 0 && (size_t)n < sizeof(text) ? (size_t)n : 0;
		transcript_emit(&ev);
		json_decref(f);
	}
}

/* End a connection without a header: log, transcript, drain, FIN. */
static void
wait_fail(struct proxy_wait *w, const char *reason, bool warn)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	size_t in = w->have;
	ssize_t n;

	tr_addr((const struct sockaddr *)&w->peer, ip, sizeof(ip), &port);
	if (warn)
		log_warnx(
		    "proxy protocol: closing the connection from %s%s%s:%u "
		    "without a banner: %s",
		    strchr(ip, ':') ? "[" : "", ip, strchr(ip, ':') ? "]" : "",
		    port, reason);
	/* Unread bytes would turn the close into a RST; take what is there
	 * (a bounded amount: a peer that keeps sending gets the RST). */
	for (int i = 0; i < 64; i++) {
		n = recv(w->fd, w->buf, sizeof(w->buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		in += (size_t)n;
	}
	wait_events(w, reason, in);
	shutdown(w->fd, SHUT_WR);
	evutil_closesocket(w->fd);
	wait_free(w);
}

/* Take n bytes we have peeked at off the socket; -1 if they are not all
 * there (cannot happen: they were peeked). */
static int
wait_take(struct proxy_wait *w, size_t n)
{
	unsigned char sink[PROXY_ACCEPT_CAP];
	ssize_t got;

	while (n > 0) {
		got = recv(w->fd, sink, n, MSG_DONTWAIT);
		if (got <= 0)
			return -1;
		n -= (size_t)got;
	}
	return 0;
}

/* A whole header: the connection goes on as a session. */
static void
wait_done(struct proxy_wait *w, const struct proxy_proto_header *h)
{
	struct proxy_accept *pa = w->pa;
	struct session_proxy proxy = {.version = h->version, .peer = w->peer};
	struct sockaddr_storage peer = w->peer, local = w->local;
	evutil_socket_t fd = w->fd;
	bool tls = w->tls;
	enum reply_id refuse = w->refuse;

	if (h->addresses) {
		peer = h->src;
		local = h->dst;
	}
	wait_free(w);
	pa->done(pa->owner, fd, (struct sockaddr *)&peer,
	         (struct sockaddr *)&local, &proxy, tls, refuse);
}

/* A v2 header that says it is longer than we read? */
static bool
v2_too_long(const unsigned char *buf, size_t len)
{
	static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a,
	                                      0x00, 0x0d, 0x0a, 0x51,
	                                      0x55, 0x49, 0x54, 0x0a};

	return len >= 16 && memcmp(buf, sig, sizeof(sig)) == 0 &&
	       16 + ((size_t)buf[14] << 8 | buf[15]) > PROXY_ACCEPT_CAP;
}

/* A persistent event's timeout starts over each time it fires: put it
 * back to what is left of the deadline, so a peer trickling a byte now
 * and then cannot stretch the wait (1024 bytes x the idle timeout). */
static void
wait_rearm(struct proxy_wait *w)
{
	struct timeval now, left;

	if (!w->deadline_set)
		return;
	event_base_gettimeofday_cached(w->pa->base, &now);
	evutil_timersub(&w->deadline, &now, &left);
	if (left.tv_sec < 0 || (left.tv_sec == 0 && left.tv_usec == 0))
		left = (struct timeval){0, 1}; /* due: fires at once */
	event_add(w->ev, &left);
}

static void
wait_read(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait *w = arg;
	struct proxy_proto_header h;
	const char *reason = NULL;
	size_t room = sizeof(w->buf) - w->have, len;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		wait_fail(w, "no header before the idle timeout", true);
		return;
	}
	n = recv(fd, w->buf + w->have, room, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		wait_rearm(w);
		return;
	}
	if (n == -1) {
		wait_fail(w, strerror(errno), true);
		return;
	}
	if (n == 0) {
		wait_fail(w, "connection closed before the header", true);
		return;
	}
	len = w->have + (size_t)n;
	switch (proxy_proto_parse(w->buf, len, w->pa->mask, &h, &reason)) {
	case PROXY_PROTO_DONE:
		if (h.consumed < w->have || h.consumed > len ||
		    wait_take(w, h.consumed - w->have) == -1) {
			wait_fail(w, "header bytes went missing", true);
			return;
		}
		wait_done(w, &h);
		return;
	case PROXY_PROTO_MORE:
		if (len == sizeof(w->buf) || v2_too_long(w->buf, len)) {
			wait_fail(w, "header longer than 1024 bytes", true);
			return;
		}
		/* All of it is header: take it off the socket, so the next
		 * read event is for new bytes. */
		if (wait_take(w, (size_t)n) == -1) {
			wait_fail(w, "header bytes went missing", true);
			return;
		}
		w->have = len;
		wait_rearm(w);
		return;
	case PROXY_PROTO_ERROR:
	default:
		wait_fail(w, reason != NULL ? reason : "bad header", true);
		return;
	}
}

/* proxy_accept_start - wait for fd's header, then hand it on */
int
proxy_accept_start(struct proxy_accept *pa, evutil_socket_t fd,
                   const struct sockaddr *peer, const struct sockaddr *local,
                   bool tls, enum reply_id refuse, unsigned timeout_ms,
                   const char *profile)
{
	struct proxy_wait *w;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->profile = strdup(profile)) == NULL ||
	    (w->ev = event_new(pa->base, fd, EV_READ | EV_PERSIST, wait_read,
	                       w)) == NULL) {
		if (w != NULL)
			free(w->profile);
		free(w);
		evutil_closesocket(fd);
		return -1;
	}
	w->pa = pa;
	w->fd = fd;
	w->tls = tls;
	w->refuse = refuse;
	memcpy(&w->peer, peer, sa_size(peer));
	memcpy(&w->local, local, sa_size(local));
	TAILQ_INSERT_TAIL(&pa->waits, w, entry);
	pa->n++;
	if (pa->waiting != NULL)
		atomic_fetch_add(pa->waiting, 1);
	if (timeout_ms) {
		struct timeval now;

		event_base_gettimeofday_cached(pa->base, &now);
		evutil_timeradd(&now, &tv, &w->deadline);
		w->deadline_set = true;
	}
	event_add(w->ev, timeout_ms ? &tv : NULL);
	return 0;
}

/* proxy_accept_pending - connections still waiting for their header */
size_t
proxy_accept_pending(const struct proxy_accept *pa)
{
	return pa != NULL ? pa->n : 0;
}

/* proxy_accept_clear - close every waiting connection */
void
proxy_accept_clear(struct proxy_accept *pa, const char *reason)
{
	if (pa == NULL)
		return;
	while (!TAILQ_EMPTY(&pa->waits))
		wait_fail(TAILQ_FIRST(&pa->waits), reason, false);
}

/* proxy_accept_free - clear, then free pa */
void
proxy_accept_free(struct proxy_accept *pa)
{
	if (pa == NULL)
		return;
	proxy_accept_clear(pa, "server shutting down");
	free(pa);
}
