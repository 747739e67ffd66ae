/* agent_proto.c - names for the wire values of agent_proto.h. */
#include "proto/agent_proto.h"

#include "core/compiler.h"

const char *agent_status_name(unsigned status)
{
	static const char *const names[AGENT_STATUS_MAX] = {
		[AGENT_STATUS_OK] = "ok",
		[AGENT_STATUS_PROTOCOL] = "protocol_error",
		[AGENT_STATUS_NOT_ALLOWED] = "not_allowed",
		[AGENT_STATUS_DNS] = "dns_failed",
		[AGENT_STATUS_REFUSED] = "refused",
		[AGENT_STATUS_UNREACHABLE] = "unreachable",
		[AGENT_STATUS_TIMEOUT] = "timeout",
		[AGENT_STATUS_TLS] = "tls_failed",
		[AGENT_STATUS_BUSY] = "busy",
	};
	return status < ARRAY_SIZE(names) ? names[status] : "unknown";
}
