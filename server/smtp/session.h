/*
 * session.h - one SMTP conversation: the state machine of RFC 5321 as a
 * receiver, driven by io events and by a profile.
 *
 * The session's modules, each with its own header: session.c (life,
 * state, io events), input.h (command lines with limits), data.h (DATA
 * and BDAT bodies, end of data), actions.h (rule actions and timers),
 * commands.h (the per-verb table), reply.h (the single exit for
 * everything the server says), session_tls.h (STARTTLS, implicit TLS).
 * None of them knows which vendor the profile plays.
 *
 * An idle session stays small: what only a transaction, AUTH or TLS
 * needs lives in a struct of its own, allocated the first time it is
 * needed and kept (and reused) until the session is freed.
 */
#ifndef SESSION_H
#define SESSION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "message.h"
#include "profile.h"
#include "rules.h"
#include "smtp_parse.h"
#include "tls_policy.h"
#include "transcript.h"

struct io;
struct spool;
struct spool_msg;
struct grey_store;
struct session;
struct event;
struct evbuffer;

enum session_state {
	STATE_CONNECTED, /* accepted, greeting not sent yet */
	STATE_INIT,      /* greeted, waiting for EHLO/HELO */
	STATE_HELO,      /* EHLO/HELO done, no transaction */
	STATE_MAIL,      /* MAIL accepted */
	STATE_RCPT,      /* at least one RCPT accepted */
	STATE_DATA,      /* receiving the DATA body */
	STATE_BDAT,      /* receiving a BDAT chunk */
	STATE_AUTH,      /* waiting for an AUTH continuation line */
	STATE_TLS,       /* TLS handshake in progress */
	STATE_CLOSING,   /* nothing more is read */
};
const char *session_state_str(enum session_state st);

enum auth_step {
	AUTH_NONE,
	AUTH_PLAIN_RESPONSE, /* sent "334 ", waiting for the PLAIN blob */
	AUTH_LOGIN_USER,     /* sent "334 VXNlcm5hbWU6" */
	AUTH_LOGIN_PASS,     /* sent "334 UGFzc3dvcmQ6" */
	AUTH_NTLM_NEGOTIATE, /* sent auth.ntlm.supported, waiting for type 1 */
	AUTH_NTLM_AUTHENTICATE, /* sent the type 2 challenge */
};

/* What a rule or limit has decided about the message being received. */
enum msg_verdict {
	MSG_OK,
	MSG_TOO_BIG,       /* limits.message_size */
	MSG_LINE_TOO_LONG, /* limits.text_line_length (RFC 5321 4.5.3.1.6) */
	MSG_HEADER_BIG,    /* limits.header_size */
	MSG_RULE_REPLY,    /* a rule's reply replaces the 250 */
	MSG_LOCAL_ERROR,   /* the spool failed: 451 */
	MSG_BARE_REJECT,   /* data.bare_lf/bare_cr reject: bare LF or CR */
};

/* Longest EHLO/HELO argument kept; longer ones are cut. */
#define HELO_MAX 255

/*
 * A transaction's strings, made by session_txn() at the first MAIL (or
 * the first {param} to name) and reused by every later transaction.
 * session_reset_transaction() clears mail_from, mail and queue_id; the
 * rest keep their last values, as {size} and friends always have.
 */
struct session_txn {
	char mail_from[SMTP_PATH_MAX + 1];
	struct mail_params mail;
	char queue_id[IDS_MAX]; /* {queue_id}: queue_id_format's shape */
	char spool_id[24];      /* the spool file's name part (hex) */
	char message_id[40];
	char internal_id[24];
	char size_str[24]; /* {size}: the last chunk or message */
	char param[64];    /* offending parameter for {param} */
	/* greylist.c: {greylist_wait} and {greylist_delay}, and whether
	 * the message gets greylist.header (once: postgrey's "instance") */
	char grey_wait[24];
	char grey_delay[24];
	bool grey_header_due;
};

/* What AUTH learnt: made by the first AUTH with a mechanism we run. */
struct session_auth {
	char user[256]; /* the LOGIN username between the 334s, then the
	                   authenticated user */
	size_t user_len;
};

/* The TLS strings: made by session_tls_begin(). */
struct session_tls_strings {
	char drop_why[96]; /* why a ClientHello was left unanswered */
	char version[16];  /* OpenSSL's name, once the handshake is done */
	char cipher[64];
};

/*
 * What a session gets from whoever owns it (the daemon layer, or a test).
 * The session looks no further: it never sees a server or a worker. The
 * owner keeps this alive for as long as any of its sessions lives.
 */
struct session_env {
	struct event_base *base; /* the loop the session runs on */
	struct spool *spool;     /* where accepted messages go */
	/* policy state shared by every session (greylist, fail_first);
	 * NULL: each session starts with none */
	struct grey_store *store;
	uint64_t seed; /* --seed, for the rules' odds */
	/* --via middleboxes, client side first; the profile's own "via:"
	 * follow them unless no_profile_via (--via none) */
	struct profile *const *via;
	size_t nvia;
	bool no_profile_via;
	void *owner;
	/* the session stopped serving (its slot may be given away) */
	void (*closing)(struct session *s, void *owner);
	/* the session is about to be freed */
	void (*gone)(struct session *s, void *owner);
	/* a message got its 250 */
	void (*accepted)(void *owner);
};

/*
 * A connection that came through a TCP load balancer speaking the PROXY
 * protocol (--proxy-protocol): the session's peer and local addresses are
 * the header's (the real client's), these are the socket's own.
 */
struct session_proxy {
	int version;                  /* of the header: 1 or 2 */
	struct sockaddr_storage peer; /* the socket's peer: the balancer */
};

struct session {
	/* The owner's fields: the session itself never reads them. */
	TAILQ_ENTRY(session) entry;
	bool counted;        /* holds a place in the server's session limits */
	bool counted_client; /* ...and in the per-client-address count */

	const struct session_env *env;
	struct profile *profile;
	struct io *io;
	unsigned long id;
	char id_str[24];
	/* {session_id}: made with the first reply (the greeting), reply.c */
	char session_id[IDS_MAX];
	char client_ip[INET6_ADDRSTRLEN];
	char client_port[8];
	char server_ip[INET6_ADDRSTRLEN];
	char server_port[8];
	enum session_state state;
	struct rng rng;

	/* input */
	char *line; /* current command line, NUL-terminated */
	size_t line_len;
	size_t line_cap;
	bool skipping; /* discarding an overlong line up to its LF */
	size_t skip_bytes;
	bool output_blocked; /* waiting for the client to read our replies */
	struct smtp_cmd cmd;
	unsigned verb_uses[VERB_COUNT];
	unsigned unknown_uses;
	unsigned bad_commands;

	/* identity of the client */
	bool esmtp;
	char *helo; /* EHLO/HELO argument, at most HELO_MAX; NULL before */
	bool tls;   /* the handshake completed */
	bool implicit_tls; /* TLS from the first byte (port 465 style) */
	/* REPLY_COUNT, or a session-limit refusal an implicit-TLS session
	 * sends once the handshake is done (in place of the greeting). */
	enum reply_id refuse;
	struct rule *tls_rule;     /* a ClientHello rule for handshake_done */
	const char *tls_drop_rule; /* the rule that chose tls_drop, or NULL */
	enum close_how tls_drop;   /* drop at ClientHello: FIN or RST */
	/* made by session_tls_begin(), kept */
	struct session_tls_strings *tls_strings;
	bool authenticated;
	struct session_auth *auth; /* made by the first AUTH, kept */
	enum auth_step auth_step;

	/* transaction */
	struct session_txn *txn; /* made by session_txn(), kept */
	char *mail_line;
	/* accepted recipients, each "addr\0NOTIFY\0ORCPT\0": the address,
	 * then its DSN values as received ("" when absent) */
	char **rcpts;
	size_t nrcpts;

	/* message body */
	struct data_decoder dec;
	struct header_scan *hdr; /* while a message is received */
	struct spool_msg *msg;
	uint64_t msg_size;
	bool data_done;     /* end of data seen, finishing pending */
	bool headers_done;  /* header hook already evaluated */
	bool end_hook_done; /* end-of-data rules already evaluated */
	uint64_t bdat_left;
	uint64_t bdat_chunk;
	enum session_state bdat_prev;
	bool bdat_last;
	uint64_t bdat_size_arg; /* BDAT arguments between check and proceed */
	bool bdat_last_arg;
	bool bdat_discard; /* chunk is read but the command was refused */
	enum reply_id bdat_refusal;
	bool bdat_used; /* this transaction used BDAT */
	enum msg_verdict verdict;
	const struct rule *verdict_rule;

	/* rule actions in progress */
	bool paused;
	struct event *timer;  /* delay or hang */
	struct rule *pending; /* rule waiting for its delay */
	enum hook pending_hook;
	bool hanging;
	struct event *life_timer; /* limits.connection_timeout */
	/* limits.command_timeout or data_timeout: made on first use, armed
	 * at a line's first byte (or the 354) and cleared at its end */
	struct event *deadline;
	bool deadline_on;
	enum reply_id deadline_why; /* REPLY_COMMAND_ or REPLY_DATA_TIMEOUT */
	bool shutting_down;
	bool peer_gone;
	unsigned long messages; /* accepted in this session */

	bool cut_pending; /* IO_CUT held back by a rule's pause */

	/* pace.c: one timer (made on first use) for the greeting's wait
	 * and the error delay */
	struct event *pace_timer;
	bool greet_waiting;  /* the greeting's last line is held back */
	bool pace_waiting;   /* the error delay holds the next line back */
	bool pace_waited;    /* ...and is over for the line now buffered */
	bool sync_rejecting; /* pace.sync_then reject: commands refused */

	struct evbuffer *scratch; /* reply expansion */
};

/*
 * session_new - take over an accepted socket and greet. With refuse other
 * than REPLY_COUNT (a session limit), send that reply and close instead:
 * at once, or on an implicit-TLS listener after the handshake (a client
 * there reads TLS records first; plaintext would be garbage to it).
 * proxy: NULL, or how the connection came through a PROXY protocol load
 * balancer (peer and local are then the header's addresses).
 * NULL when out of memory (the fd is closed).
 */
struct session *session_new(const struct session_env *env, struct profile *p,
                            int fd, const struct sockaddr *peer,
                            const struct sockaddr *local, unsigned long id,
                            enum reply_id refuse, bool implicit_tls,
                            bool counted_client,
                            const struct session_proxy *proxy);

/* session_refuse - send s->refuse (a session-limit reply), then FIN */
void session_refuse(struct session *s);

/* session_greet - run the connect rules, then greet (or what they say) */
void session_greet(struct session *s);

/* session_shutdown - server stopping: 421 now, or after the message */
void session_shutdown(struct session *s);

/* session_abandon - the process is exiting: close and free it now */
void session_abandon(struct session *s);

/* session_close - end the session, how the profile says; reason logged */
void session_close(struct session *s, enum close_how how, const char *reason);

/* session_close_rule - session_close because a rule said so: the close
 * event names it in the JSON transcript ("rule"); NULL: none */
void session_close_rule(struct session *s, enum close_how how,
                        const char *reason, const char *rule);

/* session_enter - every state change, logged as OLD -> NEW */
void session_enter(struct session *s, enum session_state st);

/* session_process - work through buffered input until it runs out, a
 * rule pauses the session, or the client is too slow reading */
void session_process(struct session *s);

/* session_reset_transaction - forget MAIL/RCPT/message (RSET, EHLO...) */
void session_reset_transaction(struct session *s);

/* session_txn - the transaction's strings, made on first use and kept;
 * NULL when out of memory (the caller replies) */
struct session_txn *session_txn(struct session *s);

/* session_txn_peek - the same for reading: all empty before first use */
const struct session_txn *session_txn_peek(const struct session *s);

/* session_deadline_arm - unless one is armed, start the deadline that
 * answers with why (REPLY_COMMAND_TIMEOUT or REPLY_DATA_TIMEOUT) after ms,
 * then closes; ms 0 arms nothing. No allocation after the first. */
void session_deadline_arm(struct session *s, enum reply_id why, unsigned ms);

/* session_deadline_off - what the deadline guarded has ended in time */
void session_deadline_off(struct session *s);

/* session_bad_command - count a bad command answered with reply why, if
 * the profile's limits.bad_commands_count counts it; may close the session */
void session_bad_command(struct session *s, enum reply_id why);

/*
 * session_event - one transcript event about this session: len bytes of
 * text as they are (a client or server line, a rule's description), with
 * the rule (or NULL) that caused it and its why (or NULL). Every module of
 * the smtp layer records through this or session_eventf.
 */
void session_event(struct session *s, enum tr_kind kind, const char *rule,
                   const char *why, const char *text, size_t len);

/* session_eventf - the same with formatted text (formatted only when
 * someone listens; cut at 511 bytes) */
void session_eventf(struct session *s, enum tr_kind kind, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* session_eventj - session_eventf with the event's facts as JSON fields
 * (transcript.h lists them); takes the reference to fields (NULL: none).
 * Build fields only when transcript_wants(kind). */
void session_eventj(struct session *s, enum tr_kind kind, const char *rule,
                    struct json_t *fields, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
