/*
 * proto.h - the SMTP vocabulary: the verbs the engine implements, the
 * replies it can send on its own (with built-in texts that cite their RFC
 * sections), the extensions an EHLO keyword turns on, how a connection
 * may end, and the points where a profile's rules can hook in. One name
 * table per enum; every name that reaches a profile file or a log comes
 * from here.
 *
 * Does not: parse commands (smtp_parse.h), load profiles (profile.h), or
 * decide anything about a session.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Every reply the engine can send on its own. The YAML key under
 * "replies:" is reply_id_str(id). Each reply is the exact wire text, one
 * string per line without CRLF, with {placeholders} (template.h).
 */
enum reply_id {
	REPLY_GREETING,             /* top-level "greeting:" key */
	REPLY_HELO,                 /* 250 to HELO */
	REPLY_MAIL_OK,              /* 250 to MAIL */
	REPLY_RCPT_OK,              /* 250 to RCPT */
	REPLY_DATA_START,           /* 354 to DATA */
	REPLY_DATA_OK,              /* 250 after end of data / BDAT LAST */
	REPLY_BDAT_OK,              /* 250 after a non-LAST BDAT chunk */
	REPLY_RSET_OK,              /* 250 to RSET */
	REPLY_NOOP_OK,              /* 250 to NOOP */
	REPLY_QUIT,                 /* 221 to QUIT */
	REPLY_VRFY,                 /* 252/250 to VRFY */
	REPLY_HELP,                 /* 214 to HELP */
	REPLY_STARTTLS_READY,       /* 220 to STARTTLS */
	REPLY_TLS_UNAVAILABLE,      /* 454: STARTTLS but no TLS configured */
	REPLY_TLS_ALREADY,          /* 503: STARTTLS inside TLS */
	REPLY_AUTH_OK,              /* 235 */
	REPLY_AUTH_FAILED,          /* 535 */
	REPLY_AUTH_MECHANISM,       /* 504: mechanism not advertised/known */
	REPLY_AUTH_CANCELLED,       /* 501: client sent "*" */
	REPLY_AUTH_ALREADY,         /* 503: AUTH after success */
	REPLY_AUTH_NEEDS_TLS,       /* 530: auth.require_tls and no TLS */
	REPLY_NEED_HELO,            /* 503: command before EHLO/HELO */
	REPLY_NEED_MAIL,            /* 503: RCPT/DATA before MAIL */
	REPLY_NEED_RCPT,            /* 503: DATA before RCPT */
	REPLY_NESTED_MAIL,          /* 503: MAIL inside a transaction */
	REPLY_SYNTAX_ERROR,         /* 501: generic bad arguments */
	REPLY_EHLO_SYNTAX,          /* 501: bad EHLO/HELO domain */
	REPLY_MAIL_SYNTAX,          /* 501: bad MAIL FROM path */
	REPLY_RCPT_SYNTAX,          /* 501: bad RCPT TO path */
	REPLY_PARAM_UNKNOWN,        /* 555: unknown/unadvertised parameter */
	REPLY_UNKNOWN_COMMAND,      /* 500: verb not recognised */
	REPLY_TOO_MANY_RCPTS,       /* 452: limits.recipients reached */
	REPLY_LINE_TOO_LONG,        /* 500: limits.line_length exceeded */
	REPLY_MESSAGE_TOO_BIG,      /* 552: SIZE= or data over limit */
	REPLY_HEADER_TOO_LARGE,     /* 552: limits.header_size exceeded */
	REPLY_BARE_LF,              /* strict line endings, bare LF seen */
	REPLY_DATA_BARE_LF,         /* data.bare_lf: bare LF in DATA */
	REPLY_DATA_BARE_CR,         /* data.bare_cr: bare CR in DATA */
	REPLY_IDLE_TIMEOUT,         /* 421: limits.idle_timeout */
	REPLY_CONNECTION_TIMEOUT,   /* 421: limits.connection_timeout */
	REPLY_COMMAND_TIMEOUT,      /* 421: limits.command_timeout */
	REPLY_DATA_TIMEOUT,         /* 421: limits.data_timeout */
	REPLY_BAD_COMMAND_LIMIT,    /* 421: limits.bad_commands reached */
	REPLY_TOO_MANY_SESSIONS,    /* 421: limits.max_sessions */
	REPLY_TOO_MANY_FROM_CLIENT, /* 421: limits.max_sessions_per_client */
	REPLY_SHUTDOWN,             /* 421: server stopping */
	REPLY_LOCAL_ERROR, /* 451: the spool could not take the message */
	REPLY_NEED_BDAT,   /* 503: DATA where BDAT must carry the body */
	REPLY_COUNT
};

/* The YAML key of each reply ("mail_ok", ...), and the built-in texts:
 * RFC 5321's own wording (4.2.2, 4.5.3.1, 3.x) with RFC 3463 enhanced
 * codes, each citing its section (proto.c). Which wording to use where an
 * RFC gives none is a model choice; no vendor's text is built in, so a
 * vendor profile that cannot source a reply falls back to the RFC's. */
extern const char *const reply_id_names[REPLY_COUNT];
extern const char *const reply_id_defaults[REPLY_COUNT];

/* reply_id_str - the YAML key of a reply ("mail_ok", ...) */
const char *reply_id_str(enum reply_id id);
/* reply_id_from_str - inverse of reply_id_str; -1 when unknown */
int reply_id_from_str(const char *key);

/* SMTP verbs the engine implements; profile "commands:" picks a subset. */
enum smtp_verb {
	VERB_HELO,
	VERB_EHLO,
	VERB_MAIL,
	VERB_RCPT,
	VERB_DATA,
	VERB_BDAT,
	VERB_RSET,
	VERB_NOOP,
	VERB_QUIT,
	VERB_VRFY,
	VERB_HELP,
	VERB_AUTH,
	VERB_STARTTLS,
	VERB_COUNT,
	VERB_UNKNOWN = -1
};
extern const char *const verb_names[VERB_COUNT];
/* verb_str / verb_from_str - "EHLO" <-> VERB_EHLO (case-insensitive) */
const char *verb_str(enum smtp_verb v);
int verb_from_str(const char *s, size_t len);

/*
 * What a verb needs before it may run, as flags (OpenSMTPD's and
 * Dovecot's command tables). smtp/commands.c checks them in the order
 * listed, each with its reply, before the verb's own check function;
 * that function only judges what flags cannot say (the arguments' syntax,
 * the profile's limits).
 */
enum cmd_flag {
	CMD_UNLESS_EXT = 1u << 0, /* unknown unless its extension is offered */
	CMD_NO_ARGS = 1u << 1,    /* takes no arguments */
	CMD_NEEDS_HELO = 1u << 2, /* not allowed before EHLO/HELO */
	CMD_ESMTP_EXT = 1u << 3, /* unknown unless EHLO offered its extension */
	CMD_BEFORE_AUTH = 1u << 4, /* not once authenticated (RFC 4954 4) */
	CMD_BEFORE_TLS = 1u << 5,  /* not inside TLS (RFC 3207 4.2) */
	CMD_NO_TXN = 1u << 6,      /* not inside a mail transaction */
	CMD_NEEDS_MAIL = 1u << 7,  /* only inside a mail transaction */
	CMD_NEEDS_RCPT = 1u << 8,  /* only once a recipient was accepted */
	CMD_NEEDS_ARGS = 1u << 9,  /* takes arguments */
	/* the state is judged after the arguments, by the check function:
	 * a refused BDAT still has its chunk read past (RFC 3030 2) */
	CMD_LATE_STATE = 1u << 10,
};

struct verb_spec {
	unsigned flags; /* enum cmd_flag */
	unsigned ext;   /* enum ext_bit for CMD_UNLESS_EXT / CMD_ESMTP_EXT */
};
/* Each verb's needs, by verb (its name is verb_names[verb]). */
extern const struct verb_spec verb_specs[VERB_COUNT];

/* How a connection ends when a rule or limit ends it. */
enum close_how {
	CLOSE_NONE,   /* keep the session */
	CLOSE_FIN,    /* normal reply (or the rule's reply), then FIN */
	CLOSE_SILENT, /* no reply at all, then FIN */
	CLOSE_RST,    /* reply only if the rule gives one, then RST */
	CLOSE_DROP,   /* a middlebox's drop-connection: nothing, no FIN/RST */
	CLOSE_HOW_COUNT
};
extern const char *const close_how_names[CLOSE_HOW_COUNT];
const char *close_how_str(enum close_how how);

/* Extensions the engine derives from the EHLO keywords it advertises. */
enum ext_bit {
	EXT_SIZE = 1u << 0,
	EXT_PIPELINING = 1u << 1,
	EXT_8BITMIME = 1u << 2,
	EXT_SMTPUTF8 = 1u << 3,
	EXT_DSN = 1u << 4,
	EXT_CHUNKING = 1u << 5,
	EXT_BINARYMIME = 1u << 6,
	EXT_STARTTLS = 1u << 7,
	EXT_AUTH = 1u << 8,
	EXT_ENHANCEDSTATUSCODES = 1u << 9,
};

/* EHLO keyword <-> extension bit (Postfix's ehlo_mask idea). */
struct ext_word {
	const char *word;
	unsigned bit;
};
#define EXT_WORD_COUNT 10
extern const struct ext_word ext_words[EXT_WORD_COUNT];
/* ext_from_word - the bit of an EHLO keyword's first word; 0 if none */
unsigned ext_from_word(const char *word, size_t len);

enum eol_mode {
	EOL_STRICT,  /* only CRLF ends a line; a bare LF gets REPLY_BARE_LF */
	EOL_LENIENT, /* LF alone also ends a line */
};

enum hook {
	HOOK_CONNECT,
	HOOK_COMMAND, /* a command line, before the engine handles it */
	HOOK_HEADER,  /* end of the message header section */
	HOOK_DATA,    /* message size crosses size_over, or end of data */
	HOOK_TLS_CLIENT_HELLO,   /* what the ClientHello offers */
	HOOK_TLS_HANDSHAKE_DONE, /* what was negotiated */
	HOOK_TLS_FAILED,         /* the handshake failed; OpenSSL's reason */
	HOOK_COUNT
};
extern const char *const hook_names[HOOK_COUNT];
const char *hook_str(enum hook h);
/* hook_is_tls - the tls_* hooks */
bool hook_is_tls(enum hook h);

#endif
