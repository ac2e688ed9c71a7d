#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_apply(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'apply' is not implemented yet");
	return EXIT_ERROR;
}
