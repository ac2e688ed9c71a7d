#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_output(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'output' is not implemented yet");
	return EXIT_ERROR;
}
