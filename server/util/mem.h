/*
 * mem.h - where libevent's tiny, long-lived allocations live.
 *
 * libevent keeps a few bytes of bookkeeping for every descriptor number an
 * event base has ever seen (struct evmap_io) and never frees them. Made in
 * a worker thread's heap between the sessions' own allocations, they pin
 * one page each after the sessions are gone: RSS stays near its peak
 * after a burst although malloc_trim() runs. mem_libevent() gives libevent
 * allocator functions that serve objects of up to MEM_SMALL bytes from a
 * region of their own (reused, never returned) and the rest from malloc.
 * Does not: pool anything of ours, or make allocation faster.
 */
#ifndef MEM_H
#define MEM_H

#include <stddef.h>

/* Objects up to this size go to the small-object region. */
#define MEM_SMALL 32

/* mem_libevent - install the allocator; before any other libevent call */
void mem_libevent(void);

/* The allocator itself (for tests). */
void *mem_malloc(size_t size);
void *mem_realloc(void *p, size_t size);
void mem_free(void *p);

/* mem_small_used - objects now handed out from the small region */
size_t mem_small_used(void);

#endif
