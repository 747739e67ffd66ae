/* audit_tx.c - one change and its audit entry in one store transaction,
 * for every writer below or beside the API (the API's own system
 * changes, the ACME manager's certificate records). */
#include "audit/audit.h"

#include "core/log.h"

int64_t audit_tx_begin(struct audit *a)
{
	int64_t seq;

	if (store_begin(a->store) < 0)
		return -1;
	seq = audit_next_seq(a);
	if (seq < 0)
		store_rollback(a->store);
	return seq;
}

int audit_tx_commit(struct audit *a, int64_t seq, const struct audit_event *ev)
{
	if (audit_append(a, (uint64_t)seq, ev) < 0 || store_commit(a->store) < 0) {
		store_rollback(a->store);
		log_err("cannot record %s", ev->action);
		return -1;
	}
	audit_checkpoint(a, false);
	return 0;
}
