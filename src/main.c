/* main.c - the postern command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

int main(int argc, char **argv)
{
	return cmd_dispatch(argc, argv);
}
