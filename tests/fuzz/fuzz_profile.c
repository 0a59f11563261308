/*
 * fuzz_profile.c - libFuzzer target for the profile loader
 * (server/profile/profile.h): one input is the bytes of a YAML file. They
 * are written to a private temporary file and loaded as a server profile
 * and as a middlebox; either an error line comes back or a profile, which
 * is freed. "extends:" and "via:" resolve against the shipped profiles/,
 * so mutations of real profiles reach the deeper sections.
 *
 * Does not: start a server with the profile it loaded.
 */
#include "profile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];
static int fd = -1;

static void
cleanup(void)
{
	if (fd >= 0)
		unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/fuzz-profile-XXXXXX.yaml",
	         tmp && *tmp ? tmp : "/tmp");
	fd = mkstemps(path, 5);
	if (fd < 0) {
		perror("fuzz_profile: mkstemps");
		abort();
	}
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dirs[] = {FUZZ_PROFILE_DIR};
	char err[512];
	struct profile *p;

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	err[0] = '\0';
	p = profile_load(path, dirs, 1, err, sizeof(err));
	if (p != NULL)
		profile_unref(p);
	else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	err[0] = '\0';
	p = profile_load_middlebox(path, dirs, 1, err, sizeof(err));
	if (p != NULL)
		profile_unref(p);
	return 0;
}
