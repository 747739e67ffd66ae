/* agent_service.h - `postern agent join --enable-service`: the joined
 * agent handed to systemd's postern-agent unit. */
#ifndef POSTERN_AGENT_SERVICE_H
#define POSTERN_AGENT_SERVICE_H

#include <stddef.h>

#define AGENT_SERVICE_STATE "/var/lib/postern/agent.state"
#define AGENT_SERVICE_ENV "/etc/default/postern-agent"
#define AGENT_SERVICE_ALLOW_MAX 32

/* Checks the --allow entries the unit will run with (the agent's own
 * parser) before anything is enrolled. Returns 0 or -1 with err. */
int agent_service_check(char *const *allow, unsigned n, char *err, size_t errlen);
/* After a join into AGENT_SERVICE_STATE: gives the state to user
 * postern (the unit runs the agent without root), writes the --allow
 * entries to AGENT_SERVICE_ENV, and enables and starts the unit when
 * systemd runs (else prints how to start the agent). Returns 0 or -1
 * with err. */
int agent_service_enable(char *const *allow, unsigned n, char *err, size_t errlen);

#endif
