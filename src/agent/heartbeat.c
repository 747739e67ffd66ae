/* heartbeat.c - POST the agent's status to the hub inside the tunnel. */
#define LOG_SUBSYS "agent"
#include "agent/heartbeat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent_proto.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/num.h"
#include "core/version.h"

#define HB_RESP_MAX 16384

static void heartbeat_fire(struct loop_timer *t);

static json_t *heartbeat_targets(const struct heartbeat *h)
{
	const struct acceptor *a = h->acc;
	json_t *list = json_array();
	uint64_t now = loop_now(h->loop);

	for (unsigned i = 0; list && i < a->ntargets; i++) {
		const struct acceptor_target *t = &a->targets[i];
		json_array_append_new(list, json_pack("{s:s, s:b, s:s, s:I}",
			"target", t->name, "ok", t->status == AGENT_STATUS_OK,
			"status", agent_status_name(t->status),
			"age", (json_int_t)((now - t->when_ns) / NSEC_PER_SEC)));
	}
	return list;
}

char *heartbeat_body(const struct heartbeat *h)
{
	const struct acceptor_stats *s = &h->acc->stats;
	json_t *st = json_object(), *root;
	unsigned long long refused = s->by_status[AGENT_STATUS_NOT_ALLOWED];
	unsigned long long failed = 0;
	char *text;

	for (unsigned i = AGENT_STATUS_PROTOCOL; i < AGENT_STATUS_MAX; i++) {
		json_object_set_new(st, agent_status_name(i), json_integer((json_int_t)s->by_status[i]));
		if (i != AGENT_STATUS_NOT_ALLOWED)
			failed += s->by_status[i];
	}
	json_t *errors = json_array(), *allow = json_array();
	for (unsigned i = 0; allow && h->acc->allow && i < h->acc->allow->nspecs; i++)
		json_array_append_new(allow, json_string(h->acc->allow->specs[i]));
	for (unsigned i = 0; errors && i < h->acc->nerrors; i++)
		json_array_append_new(errors, json_string(h->acc->errors[i]));
	root = json_pack("{s:i, s:s, s:I, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o,"
			 " s:o}",
		"version", AGENT_PROTO_VERSION,
		"agent_version", POSTERN_VERSION,
		"uptime", (json_int_t)((loop_now(h->loop) - h->started_ns) / NSEC_PER_SEC),
		"netstack", netstack_mode_name(h->ns->mode),
		"streams", "active", (json_int_t)s->active, "total", (json_int_t)s->accepted,
		"refused", (json_int_t)refused, "failed", (json_int_t)failed,
		"bytes_up", (json_int_t)s->bytes_up, "bytes_down", (json_int_t)s->bytes_down,
		"status", st, "targets", heartbeat_targets(h), "errors", errors,
		"allow", allow);
	if (!root)
		return NULL;
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

static void heartbeat_close(struct heartbeat *h)
{
	loop_io_del(h->loop, &h->io);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	buf_free(&h->out);
	buf_free(&h->in);
}

/* Reads "interval" from a 200 answer's JSON body, if any. */
static void heartbeat_take_answer(unsigned *interval, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	json_t *iv = j ? json_object_get(j, "interval") : NULL;

	if (json_is_integer(iv) && json_integer_value(iv) >= 5 &&
	    json_integer_value(iv) <= 3600)
		*interval = (unsigned)json_integer_value(iv);
	json_decref(j);
}

const char *heartbeat_parse_answer(const char *p, size_t n, unsigned *interval)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);

	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0)
		return "no HTTP answer";
	if (memcmp(p + 8, " 200", 4) != 0)
		return "hub refused the heartbeat";
	if (end)
		heartbeat_take_answer(interval, end + 4, n - (size_t)(end + 4 - p));
	return NULL;
}

/* The hub has the error lines this heartbeat carried: forget them. */
static void heartbeat_drop_sent_errors(struct heartbeat *h)
{
	struct acceptor *a = h->acc;
	unsigned n = h->errors_sent < a->nerrors ? h->errors_sent : a->nerrors;

	memmove(a->errors[0], a->errors[n], sizeof(a->errors[0]) * (a->nerrors - n));
	a->nerrors -= n;
	h->errors_sent = 0;
}

static void heartbeat_done(struct heartbeat *h, bool ok, const char *why)
{
	uint64_t next;

	heartbeat_close(h);
	if (ok) {
		h->ok++;
		heartbeat_drop_sent_errors(h);
		if (h->fails)
			log_info("heartbeat: hub reachable again");
		h->fails = 0;
		next = h->interval_s;
	} else {
		h->fails++;
		next = h->fails >= 6 ? HEARTBEAT_BACKOFF_MAX_S : 1u << h->fails;
		log_info("heartbeat failed (%s); next try in %llus", why,
			 (unsigned long long)next);
	}
	loop_timer_arm(h->loop, &h->timer, next * NSEC_PER_SEC);
	if (h->result)
		h->result(h->ctx, ok);
}

static void heartbeat_parse(struct heartbeat *h)
{
	const char *why = h->in.len ?
		heartbeat_parse_answer((const char *)buf_head(&h->in), h->in.len,
				       &h->interval_s) : "empty answer";

	heartbeat_done(h, why == NULL, why);
}

static void heartbeat_io(struct loop_io *io, uint32_t events)
{
	struct heartbeat *h = io->data;
	ssize_t n;

	(void)events;
	while (h->out.len) {
		n = send(h->fd, buf_head(&h->out), h->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			heartbeat_done(h, false, strerror(errno));
			return;
		}
		buf_consume(&h->out, (size_t)n);
		if (!h->out.len)
			loop_io_mod(h->loop, &h->io, LOOP_READ);
	}
	for (;;) {
		if (buf_reserve(&h->in, 2048) < 0) {
			heartbeat_done(h, false, "answer too long");
			return;
		}
		n = read(h->fd, buf_tail(&h->in), 2048);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			heartbeat_done(h, false, strerror(errno));
			return;
		}
		if (n == 0) {
			heartbeat_parse(h);
			return;
		}
		buf_commit(&h->in, (size_t)n);
	}
}

static int heartbeat_request(struct heartbeat *h)
{
	char host[INET6_ADDRSTRLEN];
	char *body = heartbeat_body(h);
	const void *a = h->hub.sa.sa_family == AF_INET ?
		(const void *)&h->hub.in4.sin_addr : (const void *)&h->hub.in6.sin6_addr;
	int rc;

	if (!body)
		return -ENOMEM;
	inet_ntop(h->hub.sa.sa_family, a, host, sizeof(host));
	buf_init(&h->out, 65536);
	buf_init(&h->in, HB_RESP_MAX);
	rc = buf_printf(&h->out, "POST %s HTTP/1.1\r\nHost: %s%s%s:%u\r\n"
			"User-Agent: postern-agent/%s\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			AGENT_HEARTBEAT_PATH, h->hub.sa.sa_family == AF_INET6 ? "[" : "",
			host, h->hub.sa.sa_family == AF_INET6 ? "]" : "",
			AGENT_HUB_API_PORT, POSTERN_VERSION, strlen(body), body);
	free(body);
	return rc;
}

static void heartbeat_fire(struct loop_timer *t)
{
	struct heartbeat *h = t->data;
	int fd;

	if (h->fd >= 0) {	/* the previous attempt is still hanging */
		heartbeat_done(h, false, "timed out");
		return;
	}
	fd = netstack_connect(h->ns, &h->hub.sa);
	if (fd < 0 || heartbeat_request(h) < 0 ||
	    loop_io_add(h->loop, &h->io, fd, LOOP_WRITE, heartbeat_io, h) < 0) {
		if (fd >= 0)
			close(fd);
		heartbeat_done(h, false, fd < 0 ? strerror(-fd) : "out of memory");
		return;
	}
	h->fd = fd;
	h->sent++;
	h->errors_sent = h->acc->nerrors;
	loop_timer_arm(h->loop, &h->timer, HEARTBEAT_TIMEOUT_NS);
}

void heartbeat_start(struct heartbeat *h, struct loop *loop,
		     struct netstack *ns, struct acceptor *acc,
		     const union proxy_v2_sa *hub, uint64_t first_ns,
		     heartbeat_result_fn *result, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->ns = ns;
	h->acc = acc;
	h->hub = *hub;
	h->result = result;
	h->ctx = ctx;
	h->fd = -1;
	h->interval_s = AGENT_HEARTBEAT_SECS;
	h->started_ns = loop_now(loop);
	loop_timer_init(&h->timer, heartbeat_fire, h);
	loop_timer_arm(loop, &h->timer, first_ns);
}

void heartbeat_stop(struct heartbeat *h)
{
	loop_timer_disarm(h->loop, &h->timer);
	heartbeat_close(h);
}
