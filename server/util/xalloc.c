/*
 * xalloc.c - the allocators of xalloc.h: a failure is fatal (log.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

static void *
xalloc_check(void *p)
{
	if (p == NULL)
		log_fatal("out of memory");
	return p;
}

/* xmalloc - malloc, or end the program */
void *
xmalloc(size_t n)
{
	return xalloc_check(malloc(n != 0 ? n : 1));
}

/* xcalloc - calloc, or end the program */
void *
xcalloc(size_t n, size_t size)
{
	return xalloc_check(calloc(n != 0 ? n : 1, size != 0 ? size : 1));
}

/* xreallocarray - realloc of n * size with an overflow check */
void *
xreallocarray(void *old, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		log_fatal("out of memory (%zu * %zu bytes)", n, size);
	return xalloc_check(realloc(old, n * size != 0 ? n * size : 1));
}

/* xstrdup - strdup, or end the program; NULL stays NULL */
char *
xstrdup(const char *s)
{
	return s != NULL ? xalloc_check(strdup(s)) : NULL;
}
