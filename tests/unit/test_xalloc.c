/*
 * test_xalloc.c - unit tests for xalloc.c: copies are copies, NULL stays
 * NULL, zero sizes still give a pointer, arrays grow keeping their bytes,
 * and an overflowing array size ends the program instead of wrapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "xalloc.h"

static void
test_xstrdup(void **state)
{
	const char *s = "mx.lab.test";
	char *c = xstrdup(s);

	assert_string_equal(c, s);
	assert_ptr_not_equal(c, s);
	free(c);
	assert_null(xstrdup(NULL));
}

static void
test_zero_sizes(void **state)
{
	void *a = xmalloc(0), *b = xcalloc(0, 8), *c = xcalloc(4, 0);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	free(a);
	free(b);
	free(c);
}

static void
test_array_grows(void **state)
{
	int *v = xreallocarray(NULL, 4, sizeof(int));

	for (int i = 0; i < 4; i++)
		v[i] = i * 7;
	v = xreallocarray(v, 1000, sizeof(int));
	for (int i = 0; i < 4; i++)
		assert_int_equal(v[i], i * 7);
	free(v);
}

static void
test_overflow_is_fatal(void **state)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* n * size wraps to a small number: must not allocate it */
		xreallocarray(NULL, SIZE_MAX / 2 + 2, 2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xstrdup),
	    cmocka_unit_test(test_zero_sizes),
	    cmocka_unit_test(test_array_grows),
	    cmocka_unit_test(test_overflow_is_fatal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
