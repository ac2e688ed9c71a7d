#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_whoami(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'whoami' is not implemented yet");
	return EXIT_ERROR;
}
