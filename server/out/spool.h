/*
 * spool.h - nothing accepted is lost: accepted messages go to a maildir.
 *
 * Layout under DIR: tmp/, new/, cur/ (maildir) and envelope/. A message
 * is streamed into tmp/NAME while DATA arrives; spool_commit() writes
 * envelope/NAME.json (tmp, fsync, rename), fsyncs the message, renames it
 * into new/NAME and fsyncs new/ -- all before the caller sends its 250.
 * A message whose session dies mid-DATA is unlinked from tmp/ and never
 * appears in new/. Sink mode ("none") keeps nothing and costs nothing.
 *
 * Not here: deciding to accept (session.c). The envelope JSON is built
 * with jansson from struct envelope (spool_envelope.c).
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spool;
struct spool_msg;

/* One MAIL parameter as received: key upper-cased, value NULL when the
 * parameter has no "=" (SMTPUTF8), else value_len bytes. */
struct envelope_param {
	const char *key;
	const char *value;
	size_t value_len;
};

/* What the server knew about a message when it accepted it. */
struct envelope {
	const char *queue_id;
	const char *profile;
	unsigned long session;
	const char *client_ip;
	unsigned client_port;
	const char *server_ip;
	unsigned server_port;
	const char *helo;      /* NULL if none */
	const char *mail_from; /* "" for the null path */
	const char *const *rcpts;
	size_t nrcpts;
	/* each recipient's NOTIFY and ORCPT as received, parallel to rcpts
	 * ("" or NULL when absent); NULL arrays: none had any */
	const char *const *rcpt_notify;
	const char *const *rcpt_orcpt;
	const struct envelope_param *mail_params; /* every MAIL parameter */
	size_t nmail_params;
	const char *body; /* "7BIT", "8BITMIME", "BINARYMIME" or NULL */
	int smtputf8;
	const char *auth_user;   /* NULL if not authenticated */
	const char *tls_version; /* NULL if the session had no TLS */
	const char *tls_cipher;
	uint64_t size;
	const char *mail_line; /* MAIL command as received, for the record */
};

/*
 * spool_open - open (creating as needed) the maildir at dir, or sink mode
 * when dir is "none". Returns NULL and writes a one-line reason to err.
 */
struct spool *spool_open(const char *dir, char *err, size_t errlen);
void spool_close(struct spool *sp);

/* Who the spool is for after --user drops root. */
struct spool_owner {
	uid_t uid;
	gid_t gid;
	const char *name;
};

/*
 * spool_open_as - spool_open for own (NULL: as spool_open): directories
 * it creates are given to own (fchown on descriptors opened O_NOFOLLOW,
 * never a path), nothing else is; a pre-existing one own neither owns nor
 * may write is refused ("owned by root, not writable by nobody; ...").
 * Both remove partial messages dead writers left in tmp/ and log how many.
 */
struct spool *spool_open_as(const char *dir, const struct spool_owner *own,
                            char *err, size_t errlen);

/* spool_check_access - 0 if this process may write the maildir, else -1
 * and a reason in err (run it after dropping root) */
int spool_check_access(const struct spool *sp, char *err, size_t errlen);

/* spool_removed - how many partial messages spool_open removed */
unsigned long spool_removed(const struct spool *sp);

/* spool_is_sink - true in "none" mode */
int spool_is_sink(const struct spool *sp);

/* spool_dir - the directory, or "none" */
const char *spool_dir(const struct spool *sp);

/*
 * spool_begin - start a message in tmp/ whose file name contains
 * queue_id. Returns NULL with errno set when the file cannot be created.
 */
struct spool_msg *spool_begin(struct spool *sp, const char *queue_id);

/* spool_write - append message bytes; 0 or -1 with errno */
int spool_write(struct spool_msg *m, const void *buf, size_t len);

/*
 * spool_commit - make the message durable in new/ with its envelope.
 * Returns 0, or -1 (with errno) after removing what it wrote; frees m
 * either way.
 */
int spool_commit(struct spool_msg *m, const struct envelope *env);

/* spool_msg_name - the message's file name in tmp/ (new/ once
 * committed), or NULL in sink mode; valid until commit or abort */
const char *spool_msg_name(const struct spool_msg *m);

/*
 * spool_envelope_json - the object envelope/NAME.json holds: "queue_id",
 * "file", "profile", "session", "received", "client"/"server" {"ip",
 * "port"}, "helo", "mail_from", "mail_params" {KEY: value or null},
 * "rcpt_to" [addr, ...], "rcpts" [{"addr", "notify", "orcpt"}] (null when
 * absent), "body", "smtputf8", "auth_user", "tls" {"version", "cipher"}
 * or null, "size", "mail_line". NULL when out of memory.
 */
struct json_t *spool_envelope_json(const char *name,
                                   const struct envelope *env);

/* spool_abort - forget a message in progress; frees m */
void spool_abort(struct spool_msg *m);

#endif
