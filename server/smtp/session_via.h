/*
 * session_via.h - the middleboxes between a session's client and its
 * engine (session_via.c).
 */
#ifndef SESSION_VIA_H
#define SESSION_VIA_H

#include <stdbool.h>

struct session;

/* session_via_init - set up the server's and profile's middleboxes */
bool session_via_init(struct session *s);
void session_via_free(struct session *s);
/* session_via_input - pass raw client input through the boxes */
bool session_via_input(struct session *s);
/* session_via_cut_pending - carry out a box's cut once input is handled */
void session_via_cut_pending(struct session *s);
/* session_via_flush - pass the server's output through the boxes */
void session_via_flush(struct session *s);

#endif
