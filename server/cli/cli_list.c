/*
 * cli_list.c - --list-profiles: every server profile by vendor, each
 * scenario (a field bug on top of a profile) under the profile it
 * extends, and every middlebox found in the search path, with its
 * description, then "from:", where each came from (-P, site, shipped,
 * source tree); when there is
 * none, one line naming each directory searched, and exit status 1.
 *
 * Does not: read the files itself (profile_list).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "profile.h"

/* cli_list - --list-profiles: list them ("vendor:" groups with their
 * scenarios, "invalid:", "middleboxes:"), or say where none was found */
int
cli_list(const struct cli *c)
{
	struct stat st;

	if (profile_list_from(c->dirs, c->origins, c->ndirs, stdout) > 0)
		return 0;
	fprintf(stderr, "smtp-mimic: --list-profiles: no profile found in");
	for (size_t i = 0; i < c->ndirs; i++)
		fprintf(stderr, "%s %s%s", i == 0 ? "" : ",", c->dirs[i],
		        stat(c->dirs[i], &st) == -1 ? " (no such directory)"
		                                    : "");
	fprintf(stderr, "; add one with --profile-path DIR\n");
	return 1;
}
