/*
 * xalloc.h - allocation that cannot fail: for start-up work (loading
 * profiles, building TLS settings), where running out of memory ends the
 * program with a message. Not for the per-session path: sessions handle
 * a failed malloc by replying or closing, and never call these.
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stddef.h>

/* xmalloc, xcalloc, xreallocarray - malloc's, or end the program */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *old, size_t n, size_t size);

/* xstrdup - a copy of s, or end the program; NULL stays NULL */
char *xstrdup(const char *s);

#endif
