#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_validate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'validate' is not implemented yet");
	return EXIT_ERROR;
}
