/*
 * test_mem.c - unit tests for mem.c: small objects come from the region
 * and their slots are reused, larger ones from malloc, realloc moves
 * between the two keeping the bytes, threads share the region safely, and
 * libevent runs on it (an event base, a bufferevent pair, events on many
 * descriptors) with every small object back afterwards.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "mem.h"

static void
test_small_slot_reused(void **state)
{
	size_t before = mem_small_used();
	void *a = mem_malloc(16), *b;

	assert_non_null(a);
	assert_int_equal(mem_small_used(), before + 1);
	memset(a, 0xa5, 16);
	mem_free(a);
	assert_int_equal(mem_small_used(), before);
	b = mem_malloc(MEM_SMALL);
	assert_ptr_equal(b, a); /* the freed slot first */
	mem_free(b);
}

static void
test_large_is_malloc(void **state)
{
	size_t before = mem_small_used();
	void *p = mem_malloc(MEM_SMALL + 1);

	assert_non_null(p);
	assert_int_equal(mem_small_used(), before);
	memset(p, 1, MEM_SMALL + 1);
	mem_free(p);
	/* Zero bytes is malloc's business too. */
	p = mem_malloc(0);
	assert_int_equal(mem_small_used(), before);
	mem_free(p);
}

static void
test_realloc_moves(void **state)
{
	static const struct {
		const char *label;
		size_t from, to;
		int used_after; /* small objects held after the realloc */
	} cases[] = {
	    {"small grows into malloc", 8, 4096, 0},
	    {"small stays small", 8, MEM_SMALL, 1},
	    {"malloc grows", 100, 8192, 0},
	    {"malloc shrinks below MEM_SMALL, stays malloc", 100, 8, 0},
	};
	unsigned char want[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t before = mem_small_used();
		unsigned char *p = mem_malloc(cases[i].from);

		assert_non_null(p);
		memcpy(p, want, sizeof(want));
		p = mem_realloc(p, cases[i].to);
		assert_non_null(p);
		if (memcmp(p, want, sizeof(want)) != 0)
			fail_msg("%s: bytes lost", cases[i].label);
		if (mem_small_used() != before + (size_t)cases[i].used_after)
			fail_msg("%s: got %zu small objects, want %zu",
			         cases[i].label, mem_small_used() - before,
			         (size_t)cases[i].used_after);
		mem_free(p);
		assert_int_equal(mem_small_used(), before);
	}
	/* realloc(NULL) allocates; realloc(p, 0) frees. */
	size_t before = mem_small_used();
	void *p = mem_realloc(NULL, 4);
	assert_int_equal(mem_small_used(), before + 1);
	assert_null(mem_realloc(p, 0));
	assert_int_equal(mem_small_used(), before);
}

static void *
churn(void *arg)
{
	void *held[64];

	for (int round = 0; round < 2000; round++) {
		for (int i = 0; i < 64; i++) {
			held[i] = mem_malloc(i % 2 ? 24 : 200);
			memset(held[i], round & 0xff, i % 2 ? 24 : 200);
		}
		for (int i = 0; i < 64; i++)
			mem_free(held[i]);
	}
	return arg;
}

static void
test_threads(void **state)
{
	pthread_t t[4];
	size_t before = mem_small_used();

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(mem_small_used(), before);
}

static void
noop_cb(evutil_socket_t fd, short what, void *arg)
{
}

static void
test_libevent_on_it(void **state)
{
	struct event_base *base;
	struct bufferevent *pair[2];
	struct event *evs[200];
	int fds[200][2];
	char got[6] = "";

	base = event_base_new();
	assert_non_null(base);
	assert_int_equal(bufferevent_pair_new(base, 0, pair), 0);
	bufferevent_enable(pair[1], EV_READ);
	assert_int_equal(bufferevent_write(pair[0], "hello", 5), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(bufferevent_read(pair[1], got, 5), 5);
	assert_string_equal(got, "hello");
	bufferevent_free(pair[0]);
	bufferevent_free(pair[1]);
	/* Events on many descriptors: libevent's per-descriptor records
	 * are small, so they land in the region and stay with the base. */
	size_t before = mem_small_used();
	for (int i = 0; i < 100; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]),
		                 0);
		evs[i] = event_new(base, fds[i][0], EV_READ, noop_cb, NULL);
		assert_non_null(evs[i]);
		assert_int_equal(event_add(evs[i], NULL), 0);
	}
	assert_true(mem_small_used() >= before + 100);
	for (int i = 0; i < 100; i++) {
		event_free(evs[i]);
		close(fds[i][0]);
		close(fds[i][1]);
	}
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_slot_reused),
	    cmocka_unit_test(test_large_is_malloc),
	    cmocka_unit_test(test_realloc_moves),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_libevent_on_it),
	};

	mem_libevent(); /* before any libevent allocation */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
