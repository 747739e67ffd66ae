/* hub_cmd.h - the `postern hub` subcommand (src/hub/hub.c); returns a
 * CMD_EXIT_* status (core/exit.h). */
#ifndef POSTERN_HUB_HUB_CMD_H
#define POSTERN_HUB_HUB_CMD_H

int hub_cmd_main(int argc, char **argv);

#endif
