/*
 * greylist.h - a session's side of the policy state kept across sessions:
 * greylisting at RCPT (profile "greylist:"), the X-Greylist-style header
 * of a message that waited, and the attempts a rule's do.fail_first
 * counts. The state itself, and postgrey's decision, are
 * out/grey_store.h's; the time is clock_now()'s (util/clock.h), so a
 * test injects it with SMTP_MIMIC_CLOCK_FILE.
 *
 * Does not: parse commands (commands.c) or write the spool itself
 * (data.c calls greylist_header with the message open).
 */
#ifndef GREYLIST_H
#define GREYLIST_H

#include <stdbool.h>
#include <stdint.h>

struct rule;
struct rule_ctx;
struct session;

/*
 * greylist_rcpt - greylist the RCPT whose address is rcpt (the check
 * has accepted it otherwise): true when it may go on, false when the
 * profile's greylist.reply was sent. Without "greylist.enabled" or a
 * store: true.
 */
bool greylist_rcpt(struct session *s, const char *rcpt);

/*
 * greylist_header - the header line due for the message just opened in
 * the spool (a recipient of it passed after its delay), written first:
 * 0, or -1 with errno when the spool write failed.
 */
int greylist_header(struct session *s);

/*
 * greylist_attempts - rule_ctx.attempts for the session in arg: count
 * this attempt of rule r's do.key and return the attempts so far
 */
uint64_t greylist_attempts(const struct rule *r, const struct rule_ctx *c,
                           void *arg);

#endif
