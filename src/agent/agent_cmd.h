/* agent_cmd.h - the `postern agent` subcommand (src/agent/cmd_agent.c); returns a
 * CMD_EXIT_* status (core/exit.h). */
#ifndef POSTERN_AGENT_AGENT_CMD_H
#define POSTERN_AGENT_AGENT_CMD_H

int cmd_agent(int argc, char **argv);

#endif
