/*
 * actions.h - rule actions, carried out the same way for every rule at
 * every hook (delay, reply, close FIN / silent / RST, hang), and the
 * session's timers.
 *
 * Does not: match rules (rules.h) or know what a hook's normal
 * behaviour is beyond calling the module that has it.
 */
#ifndef ACTIONS_H
#define ACTIONS_H

#include <stdbool.h>

#include "proto.h"

struct rule_ctx;
struct session;

/* actions_hook - try the rules at a hook and carry out the first that
 * matches; false when none fired */
bool actions_hook(struct session *s, const struct rule_ctx *ctx);

/* actions_normal - the engine's own behaviour at a hook when no rule
 * replaces it */
void actions_normal(struct session *s, enum hook h);

/* actions_life_start - arm limits.connection_timeout, if any */
void actions_life_start(struct session *s);

#endif
