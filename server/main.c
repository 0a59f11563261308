/*
 * main.c - smtp-mimic's entry point: read the flags, then do one of three
 * things with them: --check (explain and exit), --list-profiles, or serve.
 *
 * Every start-up problem ends with one line naming the file, line and
 * column or the flag, and exit status 1 (2 for a usage error). Does not:
 * parse a flag, load a profile or serve anything itself (server/cli/).
 */
#include "cli.h"
#include "mem.h"

int
main(int argc, char *argv[])
{
	struct cli c;
	int status;

	/* Before anything of libevent's is allocated. */
	mem_libevent();
	if ((status = cli_parse(&c, argc, argv)) != -1)
		return status;
	switch (c.mode) {
	case CLI_CHECK:
		return cli_check(&c);
	case CLI_LIST:
		return cli_list(&c);
	case CLI_SERVE:
		break;
	}
	return cli_serve(&c);
}
