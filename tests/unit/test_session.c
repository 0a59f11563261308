/*
 * test_session.c - the smtp layer (session, input, data, actions, commands,
 * reply) and io's middlebox filter (net/via.c) driven without TCP: a real
 * event loop, a hand-built server and worker, and a socketpair whose
 * other end plays the client.
 *
 * Each scenario is a list of (client bytes, exactly what the server says
 * next, whether it then closes). Every scenario runs twice: the client's
 * bytes written whole, then trickled one byte per write with the loop run
 * in between; the replies must be the same. The exceptions are the
 * middlebox scenarios: the ASA inspects per packet and masks a command
 * that arrives in pieces (telnet's character mode), so they say which way
 * they are sent. Also here: the maildir spool after DATA (exact bytes and
 * envelope), a session refused at a limit, the scenarios again with a
 * JSON transcript (every event parses back), and back-pressure (a client
 * that pipelines 40000 commands without reading), and the command and
 * DATA deadlines against a client that trickles a byte every 100 ms.
 *
 * Fixtures: profiles/engine/session_*.yaml (a subdirectory: test_profile.c
 * counts the lines profile_list prints for profiles/).
 * Not here: TLS (the black-box tests), server.c (test_server.c).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "profile.h"
#include "session.h"
#include "spool.h"
#include "transcript.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS  3000 /* longest wait for one reply */

/* ------------------------------------------------------------------ */
/* The scenario tables                                                */
/* ------------------------------------------------------------------ */

enum which { P_BASIC, P_LIMITS, P_ASA, P_DEADLINE };
enum mode { BOTH, WHOLE_ONLY, TRICKLE_ONLY };

struct step {
	const char *send; /* client bytes, or NULL to only wait */
	const char *want; /* exactly what the server says next */
	bool eof;         /* ...after which it closes */
	size_t send_len;  /* 0: strlen(send) */
	bool shutdown;    /* session_shutdown() before sending */
	bool half_close;  /* the client sends its FIN after the bytes */
};
/* The table's rows: S(client bytes, server bytes); S_EOF also wants the
 * close after them; S_LEN for client bytes with a NUL; S_SHUTDOWN calls
 * session_shutdown() before sending and wants the close; S_FIN half-closes
 * after sending and wants the replies, then the close. */
/* clang-format off */
#define S(send, want)          {send, want, false, 0, false, false}
#define S_EOF(send, want)      {send, want, true, 0, false, false}
#define S_LEN(send, len, want) {send, want, false, len, false, false}
#define S_SHUTDOWN(send, want) {send, want, true, 0, true, false}
#define S_FIN(send, want)      {send, want, true, 0, false, true}
#define END                    {NULL, NULL, false, 0, false, false}
/* clang-format on */

struct scenario {
	const char *label;
	enum which profile;
	bool via; /* through the asa-esmtp-inspect box */
	enum mode mode;
	const struct step *steps; /* up to END */
};

#define G      "220 mx.unit.test ESMTP unit\r\n"
#define EHLO_C "EHLO client.test\r\n"
#define EHLO_R                                                                 \
	"250-mx.unit.test hello client.test [192.0.2.7:40000]\r\n"             \
	"250-PIPELINING\r\n"                                                   \
	"250-SIZE 2000\r\n"                                                    \
	"250-8BITMIME\r\n"                                                     \
	"250-CHUNKING\r\n"                                                     \
	"250-AUTH PLAIN LOGIN\r\n"                                             \
	"250 ENHANCEDSTATUSCODES\r\n"
#define QUIT_R "221 quit 198.51.100.25:25\r\n"
#define MAIL_C "MAIL FROM:<a@x.test>\r\n"
#define MAIL_R "250 mail_ok a@x.test\r\n"
#define RCPT_C "RCPT TO:<b@y.test>\r\n"
#define RCPT_R "250 rcpt_ok b@y.test\r\n"
#define NOOP_R "250 noop_ok\r\n"
#define X10    "xxxxxxxxxx"
#define X50    X10 X10 X10 X10 X10
/* 80 bytes with CRLF, and 20 of them: past the "big" rule's 1500 */
#define L80    X50 X10 X10 "xxxxxxxx\r\n"
#define L80x5  L80 L80 L80 L80 L80
#define L80x20 L80x5 L80x5 L80x5 L80x5
/* base64 of "\0" + 60 "u" + "\0p": an AUTH line over line_length 64 */
#define LONG_PLAIN                                                             \
	"AHV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dX"   \
	"V1dXV1dXV1dXV1dXV1dQBw"

static const struct scenario scenarios[] = {
    {"greeting, QUIT, EOF", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S_EOF("QUIT\r\n", QUIT_R),
         END,
     }},
    {"EHLO reply lines, twice", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S("ehlo Other.Test\r\n",
           "250-mx.unit.test hello Other.Test [192.0.2.7:40000]\r\n"
           "250-PIPELINING\r\n250-SIZE 2000\r\n250-8BITMIME\r\n"
           "250-CHUNKING\r\n250-AUTH PLAIN LOGIN\r\n"
           "250 ENHANCEDSTATUSCODES\r\n"),
         END,
     }},
    {"HELO: no ESMTP parameters, no AUTH", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("HELO client.test\r\n", "250 mx.unit.test helo client.test\r\n"),
         S("MAIL FROM:<a@x.test> SIZE=10\r\n", "555 param_unknown SIZE\r\n"),
         S("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
           "500 unknown_command AUTH\r\n"),
         S(MAIL_C, MAIL_R),
         S_EOF("QUIT\r\n", QUIT_R),
         END,
     }},
    {"MAIL, RCPT, DATA with dot-stuffing, twice", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("RCPT TO:<c@y.test>\r\n", "250 rcpt_ok c@y.test\r\n"),
         S("DATA\r\n", "354 data_start\r\n"),
         S("Subject: t\r\n\r\n..leading dot\r\n", ""),
         S("a.\r\n.\r\n", "250 data_ok 32 from a@x.test to c@y.test\r\n"),
         S("MAIL FROM:<>\r\n", "250 mail_ok \r\n"),
         S(RCPT_C, RCPT_R),
         S("DATA\r\n", "354 data_start\r\n"),
         S(".\r\n", "250 data_ok 0 from  to b@y.test\r\n"),
         S_EOF("QUIT\r\n", QUIT_R),
         END,
     }},
    {"RSET forgets the transaction", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("RSET\r\n", "250 rset_ok\r\n"), /* before EHLO too */
         S(MAIL_C, "503 need_helo\r\n"),
         S(EHLO_C, EHLO_R),
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("RSET\r\n", "250 rset_ok\r\n"),
         S("DATA\r\n", "503 need_mail\r\n"),
         S(RCPT_C, "503 need_mail\r\n"),
         S(MAIL_C, MAIL_R),
         END,
     }},
    {"NOOP, VRFY, HELP", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("NOOP\r\n", NOOP_R),
         S("noop with arguments\r\n", NOOP_R),
         S("VRFY bob\r\n", "252 vrfy\r\n"),
         S("VRFY\r\n", "501 syntax_error\r\n"),
         S("HELP\r\n", "214-help HELP\r\n214 help end\r\n"),
         S("help data\r\n", "214-help HELP\r\n214 help end\r\n"),
         END,
     }},
    {"sequence errors", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(MAIL_C, "503 need_helo\r\n"),
         S(RCPT_C, "503 need_helo\r\n"),
         S("DATA\r\n", "503 need_helo\r\n"),
         S("AUTH PLAIN\r\n", "503 need_helo\r\n"),
         S(EHLO_C, EHLO_R),
         S(RCPT_C, "503 need_mail\r\n"),
         S("DATA\r\n", "503 need_mail\r\n"),
         S(MAIL_C, MAIL_R),
         S("DATA\r\n", "503 need_rcpt\r\n"),
         S("MAIL FROM:<z@x.test>\r\n", "503 nested_mail\r\n"),
         S("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "503 nested_mail\r\n"),
         S(RCPT_C, RCPT_R),
         S("RCPT TO:<c@y.test>\r\n", "250 rcpt_ok c@y.test\r\n"),
         S("RCPT TO:<d@y.test>\r\n", "250 rcpt_ok d@y.test\r\n"),
         S("RCPT TO:<e@y.test>\r\n", "452 too_many_rcpts\r\n"),
         S("EHLO again.test\r\n",
           "250-mx.unit.test hello again.test [192.0.2.7:40000]\r\n"
           "250-PIPELINING\r\n250-SIZE 2000\r\n250-8BITMIME\r\n"
           "250-CHUNKING\r\n250-AUTH PLAIN LOGIN\r\n"
           "250 ENHANCEDSTATUSCODES\r\n"),
         S("DATA\r\n", "503 need_mail\r\n"), /* EHLO reset it */
         END,
     }},
    {"unknown verbs", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("FOO bar\r\n", "500 unknown_command FOO\r\n"),
         S("STARTTLS\r\n", "500 unknown_command STARTTLS\r\n"),
         S("\r\n", "500 unknown_command \r\n"),
         S("averyveryverylongverb x\r\n",
           "500 unknown_command AVERYVERYVERYLON\r\n"),
         S(EHLO_C, EHLO_R),
         S("BDATX 1\r\n", "500 unknown_command BDATX\r\n"),
         END,
     }},
    {"syntax errors", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("EHLO\r\n", "501 ehlo_syntax\r\n"),
         S("HELO   \r\n", "501 ehlo_syntax\r\n"),
         S(EHLO_C, EHLO_R),
         S("MAIL FROM:<a@x.test\r\n", "501 mail_syntax\r\n"),
         S("MAIL TO:<a@x.test>\r\n", "501 mail_syntax\r\n"),
         S("MAIL FROM:<a@x.test> SIZE=5000\r\n",
           "552 message_too_big 2000\r\n"),
         S("MAIL FROM:<a@x.test> FOO=1\r\n", "555 param_unknown FOO\r\n"),
         S("MAIL FROM:<a@x.test> BODY=8BITMIME SIZE=100\r\n", MAIL_R),
         S("RCPT TO:<>\r\n", "501 rcpt_syntax\r\n"),
         S("RCPT TO:<b@y.test> NOTIFY=NEVER\r\n",
           "555 param_unknown NOTIFY\r\n"),
         S("RSET now\r\n", "501 syntax_error\r\n"),
         S("DATA now\r\n", "501 syntax_error\r\n"),
         S_LEN("NOOP a\0b\r\n", 10, "501 syntax_error\r\n"),
         S("BDAT\r\n", "501 syntax_error\r\n"),
         END,
     }},
    {"command line length (limit 64 with CRLF)", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("NOOP " X50 "xxxxxxx\r\n", NOOP_R),                   /* 64 */
         S("NOOP " X50 "xxxxxxxx\r\n", "500 line_too_long\r\n"), /* 65 */
         S("RSET\r\n", "250 rset_ok\r\n"),
         S("NOOP " X50 X50 X50 X50 X50 X50 "\r\n", "500 line_too_long\r\n"),
         S("RSET\r\n", "250 rset_ok\r\n"),
         S(EHLO_C, EHLO_R),
         /* RFC 4954 4: AUTH lines may be longer than the limit */
         S("AUTH PLAIN " LONG_PLAIN "\r\n", "535 auth_failed\r\n"),
         END,
     }},
    {"bare LF, strict line endings", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("NOOP\n", "500 bare_lf\r\n"),
         S("NOOP\r\n", NOOP_R),
         S("EHLO client.test\n", "500 bare_lf\r\n"),
         S(EHLO_C, EHLO_R),
         END,
     }},
    {"pipelined batch", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S(MAIL_C RCPT_C "RCPT TO:<grey@y.test>\r\nDATA\r\n",
           MAIL_R RCPT_R "450 greylisted\r\n354 data_start\r\n"),
         S_EOF("hi\r\n.\r\nNOOP\r\nQUIT\r\n",
               "250 data_ok 4 from a@x.test to b@y.test\r\n" NOOP_R QUIT_R),
         END,
     }},
    {"BDAT with CHUNKING", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S("BDAT 3\r\nabc", "503 need_mail\r\n"), /* read, then refused */
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("BDAT 6\r\nHello\n", "250 bdat_ok 6\r\n"),
         S("DATA\r\n", "503 need_bdat\r\n"), /* RFC 3030 2 */
         S("BDAT 4 LAST\r\nab\r\n",
           "250 data_ok 10 from a@x.test to b@y.test\r\n"),
         S(MAIL_C RCPT_C "BDAT 5\r\n12345BDAT 0 LAST\r\nNOOP\r\n",
           MAIL_R RCPT_R "250 bdat_ok 5\r\n"
                         "250 data_ok 5 from a@x.test to b@y.test\r\n" NOOP_R),
         S("BDAT x\r\n", "501 syntax_error\r\n"),
         END,
     }},
    {"AUTH PLAIN", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S("AUTH PLAIN AGFsaWNlAHdyb25n\r\n", "535 auth_failed\r\n"),
         S("AUTH PLAIN\r\n", "334 \r\n"),
         S("AGFsaWNlAHNlY3JldA==\r\n", "235 auth_ok\r\n"),
         S("AUTH LOGIN\r\n", "503 auth_already\r\n"),
         S(MAIL_C, MAIL_R),
         END,
     }},
    {"the command table's checks come in their order", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "235 auth_ok\r\n"),
         S(MAIL_C, MAIL_R),
         /* authenticated before inside a transaction */
         S("AUTH LOGIN\r\n", "503 auth_already\r\n"),
         /* DATA's arguments before its state */
         S("DATA now\r\n", "501 syntax_error\r\n"),
         S("DATA\r\n", "503 need_rcpt\r\n"),
         /* BDAT's arguments, then its state once the chunk is read */
         S("BDAT x\r\n", "501 syntax_error\r\n"),
         S("BDAT 3\r\nabc", "503 need_rcpt\r\n"),
         S("VRFY\r\n", "501 syntax_error\r\n"),
         S("RSET now\r\n", "501 syntax_error\r\n"),
         S(RCPT_C, RCPT_R),
         END,
     }},
    {"AUTH LOGIN", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S("AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"),
         S("YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n"),
         S("d3Jvbmc=\r\n", "535 auth_failed\r\n"),
         S("auth login YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n"),
         S("c2VjcmV0\r\n", "235 auth_ok\r\n"),
         END,
     }},
    {"AUTH errors and cancel", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S("AUTH CRAM-MD5\r\n", "504 auth_mechanism\r\n"),
         S("AUTH\r\n", "501 syntax_error\r\n"),
         S("AUTH PLAIN !!!!\r\n", "501 syntax_error\r\n"),
         S("AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"),
         S("*\r\n", "501 auth_cancelled\r\n"),
         S("AUTH PLAIN\r\n", "334 \r\n"),
         S("*\r\n", "501 auth_cancelled\r\n"),
         S("AUTH PLAIN\r\n", "334 \r\n"),
         S("!!!!\r\n", "501 syntax_error\r\n"),
         S("AUTH LOGIN YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n"),
         S("*\r\n", "501 auth_cancelled\r\n"),
         S("NOOP\r\n", NOOP_R),
         END,
     }},
    {"rules: reply, nth, delay", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S("NOOP\r\n", NOOP_R),
         S("NOOP\r\n", NOOP_R),
         S("NOOP\r\n", "250 third noop\r\n"),
         S("NOOP\r\n", NOOP_R),
         S("XSLOW\r\nNOOP\r\n", "250 slow\r\n" NOOP_R),
         S(EHLO_C, EHLO_R),
         S(MAIL_C, MAIL_R),
         S("RCPT TO:<grey@y.test>\r\n", "450 greylisted\r\n"),
         S("DATA\r\n", "503 need_rcpt\r\n"),
         END,
     }},
    {"rule: reply then close", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S_EOF("XKICK\r\n", "554 kicked\r\n"),
         END,
     }},
    {"rule: silent close", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S_EOF("XSILENT now\r\n", ""),
         END,
     }},
    {"header and size rules answer at the end of the data", P_BASIC, false,
     BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("DATA\r\n", "354 data_start\r\n"),
         S("X-Block: 1\r\nSubject: s\r\n\r\nbody\r\n", ""),
         S(".\r\n", "550 blocked header\r\n"),
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("DATA\r\n", "354 data_start\r\n"),
         S("Subject: big\r\n\r\n" L80x20, ""),
         S(".\r\n", "552 rule big\r\n"),
         S("DATA\r\n", "503 need_mail\r\n"),
         END,
     }},
    {"text line limit (100 with CRLF)", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("DATA\r\n", "354 data_start\r\n"),
         S("Subject: s\r\n\r\n" X50 X10 X10 X10 X10 "xxxxxxxx\r\n.\r\n",
           "250 data_ok 114 from a@x.test to b@y.test\r\n"), /* 100 */
         S(MAIL_C, MAIL_R),
         S(RCPT_C, RCPT_R),
         S("DATA\r\n", "354 data_start\r\n"),
         S("Subject: s\r\n\r\n" X50 X10 X10 X10 X10 "xxxxxxxxx\r\n.\r\n",
           "500 line_too_long\r\n"), /* 101 */
         S(MAIL_C, MAIL_R),
         END,
     }},
    {"strict: LF.LF and CRLF.LF do not end the data (smuggling)", P_BASIC,
     false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S(MAIL_C RCPT_C "DATA\r\n", MAIL_R RCPT_R "354 data_start\r\n"),
         S("a\n.\nMAIL FROM:<e@v.test>\r\n.\nRSET\r\n", ""),
         /* 36 bytes, less the stuffing dot of ".\n" after a CRLF */
         S("\r\n.\r\n", "250 data_ok 35 from a@x.test to b@y.test\r\n"),
         END,
     }},
    {"lenient: LF.LF ends the data", P_LIMITS, false, BOTH,
     (const struct step[]){
         S(NULL, "220 mx.unit.test limits\r\n"),
         S("HELO client.test\n", "250 mx.unit.test\r\n"),
         S("MAIL FROM:<a@x.test>\nRCPT TO:<b@y.test>\nDATA\n",
           "250 mail_ok\r\n250 rcpt_ok\r\n354 data_start\r\n"),
         S("a\n.\nNOOP\n", "250 data_ok 2\r\n" NOOP_R),
         END,
     }},
    {"pipelined, then the client's FIN: every reply, then EOF", P_BASIC, false,
     BOTH,
     (const struct step[]){
         S(NULL, G),
         S_FIN(EHLO_C MAIL_C RCPT_C "DATA\r\nhi\r\n.\r\nNOOP\r\n",
               EHLO_R MAIL_R RCPT_R
               "354 data_start\r\n"
               "250 data_ok 4 from a@x.test to b@y.test\r\n" NOOP_R),
         END,
     }},
    {"a delay rule, then the client's FIN", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S_FIN("XSLOW\r\nQUIT\r\n", "250 slow\r\n" QUIT_R),
         END,
     }},
    {"bad command limit: 421, then EOF", P_LIMITS, false, BOTH,
     (const struct step[]){
         S(NULL, "220 mx.unit.test limits\r\n"),
         S("FOO\r\n", "500 unknown_command\r\n"),
         S("NOOP\n", NOOP_R), /* lenient line endings */
         S("BAR\n", "500 unknown_command\r\n"),
         S_EOF("MAIL FROM:<a@x.test>\r\n",
               "503 need_helo\r\n421 bad_command_limit\r\n"),
         END,
     }},
    {"bad command limit counts long lines", P_LIMITS, false, BOTH,
     (const struct step[]){
         S(NULL, "220 mx.unit.test limits\r\n"),
         S("NOOP " X50 "\r\n", "500 line_too_long\r\n"),
         S_EOF("XA\r\nXB\r\nNOOP\r\n",
               "500 unknown_command\r\n500 unknown_command\r\n"
               "421 bad_command_limit\r\n"),
         END,
     }},
    {"idle timeout", P_LIMITS, false, BOTH,
     (const struct step[]){
         S(NULL, "220 mx.unit.test limits\r\n"),
         S("NOOP\r\n", NOOP_R),
         S_EOF(NULL, "421 idle_timeout\r\n"),
         END,
     }},
    {"session_shutdown waits for the end of the data", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S(MAIL_C RCPT_C "DATA\r\n", MAIL_R RCPT_R "354 data_start\r\n"),
         S_SHUTDOWN(
             "hi\r\n.\r\n",
             "250 data_ok 4 from a@x.test to b@y.test\r\n421 shutdown\r\n"),
         END,
     }},
    {"session_shutdown when idle", P_BASIC, false, BOTH,
     (const struct step[]){
         S(NULL, G),
         S(EHLO_C, EHLO_R),
         S_SHUTDOWN(NULL, "421 shutdown\r\n"),
         END,
     }},
    {"asa-esmtp-inspect: masked banner, XXXXXXXA, STARTTLS -> 500", P_ASA, true,
     WHOLE_ONLY,
     (const struct step[]){
         S(NULL, "220 *******************2*0********\r\n"),
         S(EHLO_C, "250-mx.unit.test\r\n250-8BITMIME\r\n"
                   "250-SIZE 14680064\r\n250 XXXXXXXA\r\n"),
         S("STARTTLS\r\n", "500 #5.5.1 command not recognized\r\n"),
         S("BDAT 1 LAST\r\n", "500 #5.5.1 command not recognized\r\n"),
         S("NOOP\r\n", NOOP_R),
         S_EOF("QUIT\r\n", "221 quit\r\n"),
         END,
     }},
    {"asa-esmtp-inspect: a command typed a byte at a time is masked", P_ASA,
     true, TRICKLE_ONLY,
     (const struct step[]){
         S(NULL, "220 *******************2*0********\r\n"),
         S("NOOP\r\n", "500 #5.5.1 command not recognized\r\n"),
         END,
     }},
    {"no middlebox: STARTTLS advertised, no tls: section -> 454", P_ASA, false,
     BOTH,
     (const struct step[]){
         S(NULL, "220 mx.unit.test ESMTP 2.0 ready 1\r\n"),
         S(EHLO_C, "250-mx.unit.test\r\n250-8BITMIME\r\n"
                   "250-SIZE 14680064\r\n250 STARTTLS\r\n"),
         S("STARTTLS\r\n", "454 tls_unavailable\r\n"),
         S("STARTTLS now\r\n", "501 5.5.4 Syntax error in parameters or "
                               "arguments\r\n"),
         END,
     }},
};

/* ------------------------------------------------------------------ */
/* The harness                                                        */
/* ------------------------------------------------------------------ */

TAILQ_HEAD(session_list, session);

/* The harness owns its sessions as the server's workers do: it counts
 * them and lists them, and the session tells it when one closes. */
struct fx {
	struct event_base *base;
	struct session_env env;
	struct session_list sessions;
	atomic_uint nsessions;
	struct spool *sink;
	struct profile *profiles[4]; /* enum which */
	struct profile *box;
	unsigned long next_id;
};

struct conn {
	int fd; /* the client's end */
	struct session *s;
	bool eof; /* the server closed (EOF or reset) */
};

static struct profile *
load(const char *path)
{
	char err[512];
	struct profile *p = profile_load(path, NULL, 0, err, sizeof(err));

	if (p == NULL)
		fail_msg("%s: %s", path, err);
	return p;
}

static void
fx_closing(struct session *s, void *owner)
{
	struct fx *fx = owner;

	if (!s->counted)
		return;
	s->counted = false;
	atomic_fetch_sub(&fx->nsessions, 1);
}

static void
fx_gone(struct session *s, void *owner)
{
	struct fx *fx = owner;

	fx_closing(s, fx);
	TAILQ_REMOVE(&fx->sessions, s, entry);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[512];

	assert_non_null(fx);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	fx->sink = spool_open("none", err, sizeof(err));
	assert_non_null(fx->sink);
	fx->profiles[P_BASIC] = load("profiles/engine/session_basic.yaml");
	fx->profiles[P_LIMITS] = load("profiles/engine/session_limits.yaml");
	fx->profiles[P_ASA] = load("profiles/engine/session_asa.yaml");
	fx->profiles[P_DEADLINE] =
	    load("profiles/engine/session_deadline.yaml");
	fx->box = profile_load_middlebox(
	    "../../profiles/middleboxes/asa-esmtp-inspect.yaml", NULL, 0, err,
	    sizeof(err));
	if (fx->box == NULL)
		fail_msg("asa-esmtp-inspect: %s", err);

	fx->env = (struct session_env){
	    .base = fx->base,
	    .spool = fx->sink,
	    .seed = 1,
	    .via = &fx->box,
	    .owner = fx,
	    .closing = fx_closing,
	    .gone = fx_gone,
	};
	TAILQ_INIT(&fx->sessions);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	assert_true(TAILQ_EMPTY(&fx->sessions));
	assert_int_equal(atomic_load(&fx->nsessions), 0);
	for (size_t i = 0; i < NELEM(fx->profiles); i++) {
		/* the sessions gave their references back */
		assert_int_equal(atomic_load(&fx->profiles[i]->refs), 1);
		profile_unref(fx->profiles[i]);
	}
	profile_unref(fx->box);
	spool_close(fx->sink);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A session on a socketpair, counted and listed as server_accept does. */
static void
conn_open(struct fx *fx, struct profile *p, enum reply_id refuse,
          struct conn *c)
{
	struct sockaddr_in peer = {.sin_family = AF_INET,
	                           .sin_port = htons(40000)};
	struct sockaddr_in local = {.sin_family = AF_INET,
	                            .sin_port = htons(25)};
	int sv[2];

	inet_pton(AF_INET, "192.0.2.7", &peer.sin_addr);
	inet_pton(AF_INET, "198.51.100.25", &local.sin_addr);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[0]), 0);
	atomic_fetch_add(&fx->nsessions, 1);
	c->s = session_new(&fx->env, p, sv[0], (struct sockaddr *)&peer,
	                   (struct sockaddr *)&local, ++fx->next_id, refuse,
	                   false, false, NULL);
	assert_non_null(c->s);
	TAILQ_INSERT_TAIL(&fx->sessions, c->s, entry);
	c->fd = sv[1];
	c->eof = false;
}

/* Run the loop once, then take what the server sent. */
static void
pump(struct fx *fx, struct conn *c, struct evbuffer *got)
{
	char buf[4096];
	ssize_t n;

	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	while (!c->eof &&
	       (n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == ECONNRESET)
				c->eof = true;
			return;
		}
		evbuffer_add(got, buf, (size_t)n);
	}
	c->eof = true;
}

/* Wait until want bytes (and, if eof, the close) arrived, or WAIT_MS. */
static void
await(struct fx *fx, struct conn *c, struct evbuffer *got, size_t want,
      bool eof)
{
	long end = now_ms() + WAIT_MS;

	for (;;) {
		size_t before = evbuffer_get_length(got);

		pump(fx, c, got);
		if (c->eof || (evbuffer_get_length(got) >= want && !eof))
			return;
		if (now_ms() > end)
			return;
		if (evbuffer_get_length(got) == before)
			usleep(200);
	}
}

static void
client_send(struct fx *fx, struct conn *c, const char *p, size_t len,
            bool trickle, struct evbuffer *got)
{
	if (!trickle) {
		/* One write when it fits in the socket (all the tables do);
		 * otherwise the loop runs while the rest waits. */
		while (len > 0 && !c->eof) {
			ssize_t n =
			    send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 &&
			    (errno == EAGAIN || errno == EWOULDBLOCK)) {
				pump(fx, c, got);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break; /* the server is gone; await() will say
				          so */
			p += n;
			len -= (size_t)n;
		}
		return;
	}
	for (size_t i = 0; i < len && !c->eof; i++) {
		if (send(c->fd, p + i, 1, MSG_NOSIGNAL) != 1)
			break; /* the server is gone; await() will say so */
		pump(fx, c, got);
	}
}

/* Close the client's end and run the loop until the session is freed. */
static void
conn_finish(struct fx *fx, struct conn *c)
{
	long end = now_ms() + WAIT_MS;

	close(c->fd);
	while (!TAILQ_EMPTY(&fx->sessions) && now_ms() < end) {
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		usleep(200);
	}
	assert_true(TAILQ_EMPTY(&fx->sessions));
}

static const char *
esc(struct evbuffer *b, char *out, size_t outlen)
{
	size_t len = evbuffer_get_length(b);

	if (len == 0)
		return "";
	return transcript_escape((const char *)evbuffer_pullup(b, -1), len, out,
	                         outlen);
}

static void
run_scenario(struct fx *fx, const struct scenario *sc, bool trickle)
{
	const char *how = trickle ? "trickled" : "whole";
	struct evbuffer *got = evbuffer_new();
	struct conn c;
	char g[2048], w[2048];

	fx->env.nvia = sc->via ? 1 : 0;
	conn_open(fx, fx->profiles[sc->profile], REPLY_COUNT, &c);
	for (size_t i = 0; sc->steps[i].send || sc->steps[i].want; i++) {
		const struct step *st = &sc->steps[i];
		size_t wlen = strlen(st->want);

		evbuffer_drain(got, evbuffer_get_length(got));
		if (c.eof)
			fail_msg("%s (%s) step %zu: the server closed early",
			         sc->label, how, i);
		if (st->shutdown)
			session_shutdown(c.s);
		if (st->send)
			client_send(fx, &c, st->send,
			            st->send_len ? st->send_len
			                         : strlen(st->send),
			            trickle, got);
		if (st->half_close)
			shutdown(c.fd, SHUT_WR);
		await(fx, &c, got, wlen, st->eof);
		if (evbuffer_get_length(got) != wlen ||
		    (wlen != 0 &&
		     memcmp(evbuffer_pullup(got, -1), st->want, wlen) != 0))
			fail_msg(
			    "%s (%s) step %zu: got \"%s\", want \"%s\"",
			    sc->label, how, i, esc(got, g, sizeof(g)),
			    transcript_escape(st->want, wlen, w, sizeof(w)));
		if (c.eof != st->eof)
			fail_msg("%s (%s) step %zu: got %s, want %s", sc->label,
			         how, i, c.eof ? "EOF" : "no EOF",
			         st->eof ? "EOF" : "the session open");
	}
	/* Nothing more than the table says. */
	if (!c.eof) {
		evbuffer_drain(got, evbuffer_get_length(got));
		for (int k = 0; k < 20; k++) {
			pump(fx, &c, got);
			usleep(200);
		}
		if (evbuffer_get_length(got) != 0 || c.eof)
			fail_msg("%s (%s) at the end: got \"%s\"%s, want "
			         "nothing",
			         sc->label, how, esc(got, g, sizeof(g)),
			         c.eof ? " and EOF" : "");
	}
	evbuffer_free(got);
	conn_finish(fx, &c);
	assert_int_equal(atomic_load(&fx->nsessions), 0);
}

static void
test_scenarios(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < NELEM(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		if (sc->mode != TRICKLE_ONLY)
			run_scenario(fx, sc, false);
		if (sc->mode != WHOLE_ONLY)
			run_scenario(fx, sc, true);
	}
}

/* ------------------------------------------------------------------ */
/* Refused at a session limit                                         */
/* ------------------------------------------------------------------ */

static void
test_refused(void **state)
{
	struct fx *fx = *state;
	struct evbuffer *got = evbuffer_new();
	struct conn c;
	static const char want[] = "421 too_many_sessions\r\n";

	fx->env.nvia = 0;
	conn_open(fx, fx->profiles[P_BASIC], REPLY_TOO_MANY_SESSIONS, &c);
	/* the slot is given back as soon as the session starts closing */
	assert_int_equal(atomic_load(&fx->nsessions), 0);
	await(fx, &c, got, sizeof(want) - 1, true);
	assert_int_equal(evbuffer_get_length(got), sizeof(want) - 1);
	assert_memory_equal(evbuffer_pullup(got, -1), want, sizeof(want) - 1);
	assert_true(c.eof);
	evbuffer_free(got);
	conn_finish(fx, &c);
}

/* ------------------------------------------------------------------ */
/* The maildir spool                                                  */
/* ------------------------------------------------------------------ */

/* The one entry of dir (there must be exactly n of them). */
static void
only_entry(const char *dir, size_t n, char *name, size_t namelen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t found = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		found++;
		if (name != NULL)
			snprintf(name, namelen, "%s", de->d_name);
	}
	closedir(d);
	if (found != n)
		fail_msg("%s: got %zu entries, want %zu", dir, found, n);
}

static size_t
slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len, f);
	fclose(f);
	return n;
}

static const struct step maildir_steps[] = {
    S(NULL, G),
    S(EHLO_C, EHLO_R),
    S("MAIL FROM:<a@x.test> BODY=8BITMIME\r\n", MAIL_R),
    S(RCPT_C, RCPT_R),
    S("RCPT TO:<c@y.test>\r\n", "250 rcpt_ok c@y.test\r\n"),
    S("DATA\r\n", "354 data_start\r\n"),
    S("Subject: t\r\n\r\n..one\r\n...two\r\n.\r\n",
      "250 data_ok 27 from a@x.test to c@y.test\r\n"),
    /* a message cut off mid-DATA leaves nothing behind */
    S(MAIL_C RCPT_C "DATA\r\n", MAIL_R RCPT_R "354 data_start\r\n"),
    S("Subject: never\r\n\r\npartial", ""),
    END,
};
static const char maildir_body[] = "Subject: t\r\n\r\n.one\r\n..two\r\n";

static void
test_maildir(void **state)
{
	struct fx *fx = *state;
	const struct scenario sc = {"maildir", P_BASIC, false, BOTH,
	                            maildir_steps};

	for (int trickle = 0; trickle < 2; trickle++) {
		char dir[] = "/tmp/test_session.XXXXXX", err[512], path[512],
		     name[300], buf[4096], cmd[600];
		struct spool *sp;
		json_t *env, *rcpts;
		json_error_t jerr;
		size_t n;

		assert_non_null(mkdtemp(dir));
		sp = spool_open(dir, err, sizeof(err));
		if (sp == NULL)
			fail_msg("spool_open %s: %s", dir, err);
		fx->env.spool = sp;
		run_scenario(fx, &sc, trickle);
		fx->env.spool = fx->sink;

		snprintf(path, sizeof(path), "%s/new", dir);
		only_entry(path, 1, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/new/%s", dir, name);
		n = slurp(path, buf, sizeof(buf));
		if (n != sizeof(maildir_body) - 1 ||
		    memcmp(buf, maildir_body, n) != 0) {
			char g[512], w[512];
			fail_msg("%s: got \"%s\", want \"%s\"", path,
			         transcript_escape(buf, n, g, sizeof(g)),
			         transcript_escape(maildir_body,
			                           sizeof(maildir_body) - 1, w,
			                           sizeof(w)));
		}
		snprintf(path, sizeof(path), "%s/tmp", dir);
		only_entry(path, 0, NULL, 0);
		snprintf(path, sizeof(path), "%s/envelope/%s.json", dir, name);
		env = json_load_file(path, 0, &jerr);
		if (env == NULL)
			fail_msg("%s: %s", path, jerr.text);
		assert_string_equal(
		    json_string_value(json_object_get(env, "mail_from")),
		    "a@x.test");
		rcpts = json_object_get(env, "rcpt_to");
		assert_int_equal(json_array_size(rcpts), 2);
		assert_string_equal(json_string_value(json_array_get(rcpts, 0)),
		                    "b@y.test");
		assert_string_equal(json_string_value(json_array_get(rcpts, 1)),
		                    "c@y.test");
		assert_string_equal(
		    json_string_value(json_object_get(env, "helo")),
		    "client.test");
		assert_string_equal(json_string_value(json_object_get(
		                        json_object_get(env, "client"), "ip")),
		                    "192.0.2.7");
		assert_int_equal(json_integer_value(json_object_get(
		                     json_object_get(env, "server"), "port")),
		                 25);
		assert_string_equal(
		    json_string_value(json_object_get(env, "mail_line")),
		    "MAIL FROM:<a@x.test> BODY=8BITMIME");
		assert_string_equal(
		    json_string_value(json_object_get(env, "body")),
		    "8BITMIME");
		assert_int_equal(
		    json_integer_value(json_object_get(env, "size")),
		    sizeof(maildir_body) - 1);
		json_decref(env);
		spool_close(sp);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* The same scenarios with a JSON transcript: every event formats and
 * parses back (session_event, the rule and middlebox notes). */
static void
test_scenarios_logged(void **state)
{
	char path[] = "/tmp/test_session.json.XXXXXX", err[256], line[8192];
	int fd = mkstemp(path);
	size_t lines = 0, rules = 0, closes = 0, saw = 0;
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(transcript_open(false, true, path, err, sizeof(err)),
	                 0);
	test_scenarios(state);
	transcript_close();
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_error_t jerr;
		json_t *ev = json_loads(line, 0, &jerr);
		const char *dir, *rule;

		if (ev == NULL)
			fail_msg("transcript line %zu: %s: %s", lines + 1,
			         jerr.text, line);
		dir = json_string_value(json_object_get(ev, "dir"));
		rule = json_string_value(json_object_get(ev, "rule"));
		assert_non_null(dir);
		if (rule != NULL && strcmp(rule, "kick") == 0 &&
		    strcmp(dir, "rule") == 0)
			rules++;
		if (strcmp(dir, "close") == 0)
			closes++;
		if (rule != NULL && strcmp(rule, "asa-esmtp-inspect") == 0)
			saw++;
		json_decref(ev);
		lines++;
	}
	fclose(f);
	unlink(path);
	if (rules != 2) /* the kick scenario, whole and trickled */
		fail_msg("kick rule events: got %zu, want 2", rules);
	if (closes == 0 || saw == 0)
		fail_msg("close events %zu, middlebox events %zu: want some",
		         closes, saw);
}

/*
 * A client that pipelines far more than it reads: the server stops
 * reading once 64 KiB of replies wait (output_blocked), and answers the
 * rest, in order, once the client reads again (IO_LOWAT).
 */
static void
test_backpressure(void **state)
{
	struct fx *fx = *state;
	enum { N = 40000 };
	static const char cmd[] = "RSET\r\n", reply[] = "250 rset_ok\r\n";
	struct evbuffer *got = evbuffer_new();
	size_t want = sizeof(G) - 1 + N * (sizeof(reply) - 1), sent = 0;
	size_t total = N * (sizeof(cmd) - 1);
	char *in = malloc(total);
	bool blocked = false;
	long end = now_ms() + 10 * WAIT_MS;
	struct conn c;

	assert_non_null(in);
	for (size_t i = 0; i < N; i++)
		memcpy(in + i * (sizeof(cmd) - 1), cmd, sizeof(cmd) - 1);
	fx->env.nvia = 0;
	conn_open(fx, fx->profiles[P_BASIC], REPLY_COUNT, &c);
	/* Write without reading until the server stops reading too. */
	for (int idle = 0; idle < 200 && sent < total;) {
		ssize_t n = send(c.fd, in + sent, total - sent,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n, idle = 0;
		else
			idle++;
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		blocked |= c.s->output_blocked;
	}
	if (!blocked)
		fail_msg("sent %zu of %zu bytes unread: the session never "
		         "stopped reading",
		         sent, total);
	/* Now read everything, sending the rest as it goes. */
	while (evbuffer_get_length(got) < want && !c.eof && now_ms() < end) {
		if (sent < total) {
			ssize_t n = send(c.fd, in + sent, total - sent,
			                 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
		}
		pump(fx, &c, got);
	}
	assert_false(c.eof);
	assert_int_equal(evbuffer_get_length(got), want);
	{
		const char *b = (const char *)evbuffer_pullup(got, -1);
		assert_memory_equal(b, G, sizeof(G) - 1);
		for (size_t i = 0; i < N; i++) {
			const char *r =
			    b + sizeof(G) - 1 + i * (sizeof(reply) - 1);
			if (memcmp(r, reply, sizeof(reply) - 1) != 0)
				fail_msg("reply %zu: not \"%s\"", i,
				         "250 rset_ok");
		}
	}
	free(in);
	evbuffer_free(got);
	conn_finish(fx, &c);
}

/* ------------------------------------------------------------------ */
/* limits.command_timeout and limits.data_timeout                     */
/* ------------------------------------------------------------------ */

/* Run the loop for ms, taking what the server sends. */
static void
pump_for(struct fx *fx, struct conn *c, struct evbuffer *got, long ms)
{
	long end = now_ms() + ms;

	while (!c->eof && now_ms() < end) {
		pump(fx, c, got);
		usleep(1000);
	}
}

/* Send p one byte every gap_ms until it is all sent or the server
 * closes; true if the server closed first. */
static bool
trickle_slowly(struct fx *fx, struct conn *c, const char *p, long gap_ms,
               struct evbuffer *got)
{
	for (size_t i = 0; p[i] != '\0'; i++) {
		if (c->eof ||
		    send(c->fd, p + i, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
			return true;
		pump_for(fx, c, got, gap_ms);
	}
	return c->eof;
}

/* Exactly want, then (if eof) the close; got is emptied. */
static void
want_bytes(struct fx *fx, struct conn *c, struct evbuffer *got,
           const char *label, const char *want, bool eof)
{
	char g[2048], w[2048];
	size_t wlen = strlen(want);

	await(fx, c, got, wlen, eof);
	if (evbuffer_get_length(got) != wlen ||
	    memcmp(evbuffer_pullup(got, -1), want, wlen) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", label,
		         esc(got, g, sizeof(g)),
		         transcript_escape(want, wlen, w, sizeof(w)));
	if (c->eof != eof)
		fail_msg("%s: got %s, want %s", label,
		         c->eof ? "EOF" : "no EOF",
		         eof ? "EOF" : "the session open");
	evbuffer_drain(got, wlen);
}

#define DL_G "220 mx.unit.test deadline\r\n"
/* 60 bytes at a byte per 100 ms: far past the 600 ms deadline, and each
 * gap far below the 5 s idle timeout that used to be the only bound */
#define DL_SLOW X50 "xxxxxxxxx\r\n"

static void
test_command_deadline(void **state)
{
	struct fx *fx = *state;
	struct evbuffer *got = evbuffer_new();
	struct conn c;

	fx->env.nvia = 0;
	conn_open(fx, fx->profiles[P_DEADLINE], REPLY_COUNT, &c);
	want_bytes(fx, &c, got, "greeting", DL_G, false);
	/* Three lines, each in two pieces 250 ms apart: 750 ms in all, but
	 * each line ends within its own 600 ms, so the deadline is per line
	 * and cleared at its LF. */
	for (int i = 0; i < 3; i++) {
		client_send(fx, &c, "NO", 2, false, got);
		pump_for(fx, &c, got, 250);
		client_send(fx, &c, "OP\r\n", 4, false, got);
		want_bytes(fx, &c, got, "NOOP in two pieces", NOOP_R, false);
	}
	/* Pipelined lines that arrive whole never arm it. */
	client_send(fx, &c, "NOOP\r\nNOOP\r\n", 12, false, got);
	want_bytes(fx, &c, got, "two pipelined NOOPs", NOOP_R NOOP_R, false);
	/* A byte every 100 ms: the deadline, not the idle timeout, ends it. */
	if (!trickle_slowly(fx, &c, "NOOP " DL_SLOW, 100, got))
		fail_msg("a trickled line of %zu bytes was let through",
		         strlen("NOOP " DL_SLOW));
	want_bytes(fx, &c, got, "trickled command line",
	           "421 command_timeout\r\n", true);
	evbuffer_free(got);
	conn_finish(fx, &c);
}

static void
test_data_deadline(void **state)
{
	struct fx *fx = *state;
	struct evbuffer *got = evbuffer_new();
	struct conn c;
	static const char txn[] = "HELO c.test\r\n" MAIL_C RCPT_C;

	fx->env.nvia = 0;
	/* DATA: a body sent at once is accepted; one trickled is not. */
	conn_open(fx, fx->profiles[P_DEADLINE], REPLY_COUNT, &c);
	want_bytes(fx, &c, got, "greeting", DL_G, false);
	client_send(fx, &c, txn, strlen(txn), false, got);
	want_bytes(fx, &c, got, "envelope",
	           "250 helo_ok\r\n"
	           "250 mail_ok\r\n"
	           "250 rcpt_ok\r\n",
	           false);
	client_send(fx, &c, "DATA\r\n", 6, false, got);
	want_bytes(fx, &c, got, "DATA", "354 data_start\r\n", false);
	/* the body in two pieces 300 ms apart, well inside 600 ms */
	client_send(fx, &c, "Subject: a\r\n", 12, false, got);
	pump_for(fx, &c, got, 300);
	client_send(fx, &c, "\r\nhi\r\n.\r\n", 9, false, got);
	want_bytes(fx, &c, got, "body in time", "250 data_ok 18\r\n", false);
	/* the next command line, in two pieces, is not under data_timeout */
	client_send(fx, &c, MAIL_C, 5, false, got);
	pump_for(fx, &c, got, 300);
	client_send(fx, &c, MAIL_C + 5, strlen(MAIL_C) - 5, false, got);
	want_bytes(fx, &c, got, "MAIL after the message", "250 mail_ok\r\n",
	           false);
	client_send(fx, &c, RCPT_C "DATA\r\n", strlen(RCPT_C) + 6, false, got);
	want_bytes(fx, &c, got, "second DATA",
	           "250 rcpt_ok\r\n"
	           "354 data_start\r\n",
	           false);
	/* a rule's delay (1500 ms) is not the client's: the message that
	 * waits for it past data_timeout is still accepted */
	client_send(fx, &c, "X-Slow: 1\r\n\r\nhi\r\n", 17, false, got);
	pump_for(fx, &c, got, 100); /* the header rule's delay has begun */
	client_send(fx, &c, ".\r\n", 3, false, got);
	want_bytes(fx, &c, got, "body behind a rule's delay",
	           "250 data_ok 17\r\n", false);
	client_send(fx, &c, MAIL_C RCPT_C "DATA\r\n", strlen(MAIL_C RCPT_C) + 6,
	            false, got);
	want_bytes(fx, &c, got, "third DATA",
	           "250 mail_ok\r\n250 rcpt_ok\r\n354 data_start\r\n", false);
	/* every line ends quickly: only the whole-DATA deadline catches it */
	if (!trickle_slowly(fx, &c, "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n.\r\n", 100,
	                    got))
		fail_msg("a trickled message was let through");
	want_bytes(fx, &c, got, "trickled body", "421 data_timeout\r\n", true);
	conn_finish(fx, &c);

	/* BDAT: a chunk is under the same deadline from its command. */
	conn_open(fx, fx->profiles[P_DEADLINE], REPLY_COUNT, &c);
	want_bytes(fx, &c, got, "greeting", DL_G, false);
	client_send(fx, &c, txn, strlen(txn), false, got);
	want_bytes(fx, &c, got, "envelope",
	           "250 helo_ok\r\n"
	           "250 mail_ok\r\n"
	           "250 rcpt_ok\r\n",
	           false);
	client_send(fx, &c, "BDAT 4\r\nab\r\n", 12, false, got);
	want_bytes(fx, &c, got, "BDAT at once", "250 bdat_ok 4\r\n", false);
	client_send(fx, &c, "BDAT 40 LAST\r\n", 14, false, got);
	if (!trickle_slowly(fx, &c, X10 X10 X10 X10, 100, got))
		fail_msg("a trickled BDAT chunk was let through");
	want_bytes(fx, &c, got, "trickled chunk", "421 data_timeout\r\n", true);
	evbuffer_free(got);
	conn_finish(fx, &c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_scenarios, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maildir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scenarios_logged, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_deadline, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_data_deadline, setup,
	                                    teardown),
	};

	/* as main.c: every event base may be poked from another thread */
	if (evthread_use_pthreads() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
