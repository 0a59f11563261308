/*
 * mem.c - where libevent's tiny, long-lived allocations live.
 *
 * Does: one region of address space reserved at first use (MAP_NORESERVE:
 * pages become resident only when an object lands on them), carved into
 * MEM_SMALL-byte slots with a free list, shared by every thread under a
 * mutex. Slots are reused, so the region's resident size follows the peak
 * number of live small objects (for libevent: the highest descriptor
 * number each base has seen), and those objects sit together instead of
 * one per heap page. Everything larger, and everything once the region is
 * full, is plain malloc. free() and realloc() tell the two apart by
 * address.
 * Does not: return the region's pages, or serve our own allocations.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <event2/event.h>

#include "mem.h"

/* LeakSanitizer does not look inside mmap'ed memory unless told: what
 * only the region points to would be reported as leaked. */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_LSAN 1
#endif
#endif
#ifdef MEM_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* 2 Mi slots of 32 bytes: far more descriptors than any limit here. */
#define MEM_REGION ((size_t)64 << 20)

union slot {
	union slot *next;
	unsigned char bytes[MEM_SMALL];
};

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static union slot *mem_base;  /* the region, or NULL */
static union slot *mem_end;   /* one past its last slot */
static union slot *mem_fresh; /* next never-used slot */
static union slot *mem_freed; /* free list */
static size_t mem_used;
static bool mem_failed; /* mmap failed: malloc only */

static bool
mem_owns(const void *p)
{
	return mem_base != NULL && (const union slot *)p >= mem_base &&
	       (const union slot *)p < mem_end;
}

static void *
mem_small(void)
{
	union slot *s = NULL;

	pthread_mutex_lock(&mem_lock);
	if (mem_base == NULL && !mem_failed) {
		void *r =
		    mmap(NULL, MEM_REGION, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			mem_failed = true;
		else {
			mem_base = mem_fresh = r;
			mem_end = mem_base + MEM_REGION / sizeof(union slot);
#ifdef MEM_LSAN
			__lsan_register_root_region(r, MEM_REGION);
#endif
		}
	}
	if (mem_freed != NULL) {
		s = mem_freed;
		mem_freed = s->next;
	} else if (mem_base != NULL && mem_fresh < mem_end)
		s = mem_fresh++;
	if (s != NULL)
		mem_used++;
	pthread_mutex_unlock(&mem_lock);
	return s;
}

/* mem_malloc - a small slot, or malloc */
void *
mem_malloc(size_t size)
{
	void *p;

	if (size != 0 && size <= MEM_SMALL && (p = mem_small()) != NULL)
		return p;
	return malloc(size);
}

/* mem_free - give back to whichever side it came from */
void
mem_free(void *p)
{
	union slot *s = p;

	if (!mem_owns(p)) {
		free(p);
		return;
	}
	pthread_mutex_lock(&mem_lock);
	s->next = mem_freed;
	mem_freed = s;
	mem_used--;
	pthread_mutex_unlock(&mem_lock);
}

/* mem_realloc - realloc, moving between the sides when the size says so */
void *
mem_realloc(void *p, size_t size)
{
	void *n;

	if (p == NULL)
		return mem_malloc(size);
	if (!mem_owns(p))
		return realloc(p, size);
	if (size == 0) {
		mem_free(p);
		return NULL;
	}
	if (size <= MEM_SMALL)
		return p; /* a slot holds MEM_SMALL bytes */
	if ((n = malloc(size)) == NULL)
		return NULL;
	memcpy(n, p, MEM_SMALL);
	mem_free(p);
	return n;
}

/* mem_small_used - objects now handed out from the small region */
size_t
mem_small_used(void)
{
	size_t n;

	pthread_mutex_lock(&mem_lock);
	n = mem_used;
	pthread_mutex_unlock(&mem_lock);
	return n;
}

/* mem_libevent - install the allocator; before any other libevent call */
void
mem_libevent(void)
{
	event_set_mem_functions(mem_malloc, mem_realloc, mem_free);
}
