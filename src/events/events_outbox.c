/* events_outbox.c - the audit log's append hook: queues each entry for
 * the webhooks that want it, inside the entry's own transaction. */
#define LOG_SUBSYS "events"
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/num.h"
#include "events/events.h"

struct events_offer {
	struct store *store;
	const struct audit_entry *e;
	int64_t test_id;	/* the webhook a webhook.test is for, or 0 */
};

static int events_offer_one(void *ctx, const struct store_webhook *w)
{
	struct events_offer *o = ctx;

	if (o->test_id ? w->id != o->test_id :
			 !events_filter_match(w->events, o->e->ev.action))
		return 0;
	return store_outbox_add(o->store, w->id, (int64_t)o->e->seq, o->e->time_ms);
}

int events_outbox_add(void *ctx, const struct audit_entry *e)
{
	struct events_offer o = { .store = ctx, .e = e };
	const char *obj = e->ev.object;
	uint64_t id;

	/* A test send reaches its own webhook only ("webhook:ID"). */
	if (!strcmp(e->ev.action, EVENTS_TEST_ACTION)) {
		if (strncmp(obj, "webhook:", 8) ||
		    num_parse_cstr(obj + 8, 1, INT64_MAX, &id) < 0)
			return 0;
		o.test_id = (int64_t)id;
	}
	if (store_webhook_each_enabled(o.store, events_offer_one, &o) < 0) {
		log_err("cannot queue audit entry %llu for webhooks",
			(unsigned long long)e->seq);
		return -1;
	}
	return 0;
}
