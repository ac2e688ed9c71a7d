#include "commands.h"

/* Not implemented yet: see the issue tracker. */
int cmd_graph(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("'graph' is not implemented yet");
	return EXIT_ERROR;
}
