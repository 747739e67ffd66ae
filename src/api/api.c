/* api.c - the control side's life cycle and the request dispatcher. */
#define LOG_SUBSYS "api"
#include "api/api.h"

#include <errno.h>
#include <pthread.h>
#include <grp.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api/api_int.h"
#include "core/log.h"
#include "core/secure.h"
#include "events/events.h"

#define API_TICK_MS 1000

void api_resp_init(struct api_resp *resp)
{
	resp->status = 500;
	buf_init(&resp->headers, 16u << 10);
	buf_init(&resp->body, API_RESP_MAX);
}

void api_resp_free(struct api_resp *resp)
{
	buf_free(&resp->headers);
	buf_free_secure(&resp->body);	/* may have carried a new token */
}

struct store *api_store(struct api *api)
{
	return &api->store;
}

const struct secret_keyring *api_keys(struct api *api)
{
	return &api->keys;
}

void api_set_tcp_ports(struct api *api, api_port_check_fn *check,
		       api_port_status_fn *status, void *ctx)
{
	api->port_check = check;
	api->port_status = status;
	api->port_check_ctx = ctx;
}

void api_set_allow_check(struct api *api, api_allow_check_fn *fn)
{
	api->allow_check = fn;
}

void api_set_publisher(struct api *api, api_publish_fn *fn, void *ctx)
{
	api->publish = fn;
	api->publish_ctx = ctx;
}

sqlite3_stmt *api_row(struct api *api, const char *sql, struct store_arg arg)
{
	sqlite3_stmt *st = store_prepare(&api->store, sql);

	if (!st)
		return NULL;
	if (arg.text)
		sqlite3_bind_text(st, 1, arg.text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, arg.i);
	if (sqlite3_step(st) == SQLITE_ROW)
		return st;
	sqlite3_finalize(st);
	return NULL;
}

int64_t api_tx_begin(struct api_ctx *c)
{
	int64_t seq;

	if (store_begin(&c->api->store) < 0) {
		api_reply_error(c, 503, "unavailable", NULL, "the store is busy");
		return -1;
	}
	seq = audit_next_seq(&c->api->audit);
	if (seq < 0) {
		store_rollback(&c->api->store);
		api_reply_error(c, 500, "internal", NULL, "internal error");
	}
	return seq;
}

void api_tx_abort(struct api_ctx *c)
{
	store_rollback(&c->api->store);
}

int api_tx_commit(struct api_ctx *c, int64_t seq, const char *action,
		  const char *object, const char *before, const char *after)
{
	struct api *api = c->api;
	struct audit_event ev = { c->who.actor, c->who.source, action, object,
				  before ? before : "", after ? after : "" };

	if (audit_append(&api->audit, (uint64_t)seq, &ev) < 0 ||
	    store_commit(&api->store) < 0) {
		store_rollback(&api->store);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	audit_checkpoint(&api->audit, false);
	if (c->changed && api->publish)
		api->publish(api->publish_ctx, api, c->changed);
	return 0;
}

int64_t api_sys_tx_begin(struct api *api)
{
	return audit_tx_begin(&api->audit);
}

int api_sys_tx_commit(struct api *api, int64_t seq, const char *action,
			 const char *object, const char *before, const char *after)
{
	struct audit_event ev = { "system", "", action, object, before ? before : "",
				  after ? after : "" };

	return audit_tx_commit(&api->audit, seq, &ev);
}

/* "application/json", with or without parameters. */
static bool api_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* Reads the body the endpoint takes. Returns 0 or -1 after replying. */
static int api_read_body(struct api_ctx *c)
{
	const struct api_req *r = c->req;
	char why[256];

	if (!r->body_len) {
		c->body = (c->ep->flags & API_EP_BODY) ? json_object() : NULL;
		return 0;
	}
	if (!(c->ep->flags & API_EP_BODY)) {
		api_reply_error(c, 400, "invalid", NULL, "this request takes no body");
		return -1;
	}
	if (!api_is_json(r->content_type)) {
		api_reply_error(c, 415, "unsupported_media_type", NULL,
				"send the body as application/json");
		return -1;
	}
	if (r->body_len > API_JSON_MAX) {
		api_reply_error(c, 413, "too_large", NULL,
				"the body is larger than %u bytes", API_JSON_MAX);
		return -1;
	}
	c->body = api_json_parse(r->body, r->body_len, why, sizeof(why));
	if (!c->body) {
		api_reply_error(c, 400, "invalid_json", NULL, "%s", why);
		return -1;
	}
	return 0;
}

static void api_dispatch(struct api_ctx *c)
{
	const struct api_req *r = c->req;
	bool path_known;
	char allow[128];

	bool tunnel = r->transport == API_TRANSPORT_TUNNEL;

	if (r->transport != API_TRANSPORT_HTTPS && r->transport != API_TRANSPORT_UNIX &&
	    !tunnel) {
		api_reply_error(c, 404, "not_found", NULL, "no such endpoint");
		return;
	}
	if (!r->method || !r->path) {
		api_reply_error(c, 400, "invalid", NULL, "malformed request");
		return;
	}
	if (r->repeated) {
		api_reply_error(c, 400, "invalid", NULL, "more than one %s header", r->repeated);
		return;
	}
	/* The hub's host outside /api/ (and a route's login callback): the
	 * login portal's pages. */
	if (r->transport == API_TRANSPORT_HTTPS && strncmp(r->path, "/api/", 5)) {
		api_portal(c);
		return;
	}
	c->ep = api_endpoint_match(c, r->method, r->path, &path_known);
	/* Agents inside the tunnel reach their endpoints only, and only
	 * from there (WireGuard authenticated them: no other auth). */
	if (c->ep && tunnel != !!(c->ep->flags & API_EP_TUNNEL)) {
		api_reply_error(c, 404, "not_found", NULL, "no such endpoint");
		return;
	}
	if (tunnel) {
		if (!c->ep || !r->tunnel_peer_key) {
			api_reply_error(c, 404, "not_found", NULL, "no such endpoint");
			return;
		}
		snprintf(c->who.actor, sizeof(c->who.actor), "agent");
		if (api_read_body(c) == 0)
			c->ep->fn(c);
		return;
	}
	if (!c->ep && path_known) {
		api_endpoint_allow(r->path, allow, sizeof(allow));
		api_reply_header(c, "Allow: %s", allow);
		api_reply_error(c, 405, "method_not_allowed", NULL,
				"use one of: %s", allow);
		return;
	}
	if (!c->ep) {
		api_reply_error(c, 404, "not_found", NULL, "no such endpoint");
		return;
	}
	if (api_auth(c) < 0 || api_read_body(c) < 0)
		return;
	c->ep->fn(c);
}

/* Sends the response: the request's context goes with it. */
static void api_finish(struct api_ctx *c)
{
	api_done_fn *done = c->done;
	void *arg = c->done_arg;

	/* Admin answers are never cached, anywhere. */
	api_reply_header(c, "Cache-Control: no-store");
	json_decref(c->body);
	events_worker_kick(c->api->events);	/* it may have queued events */
	if (c->reveal)
		secure_free(c->reveal, strlen(c->reveal));
	secure_free(c, sizeof(*c));
	done(arg);
}

static void api_handle_ctx(struct api *api, const struct api_req *req,
			   struct api_resp *resp, api_done_fn *done, void *arg,
			   bool inline_pw)
{
	struct api_ctx *c = calloc(1, sizeof(*c));

	buf_reset(&resp->headers);
	buf_reset(&resp->body);
	resp->status = 500;
	if (!c) {
		resp->status = 503;
		buf_printf(&resp->body, "{\"error\":{\"code\":\"unavailable\","
			   "\"message\":\"out of memory\"}}");
		done(arg);
		return;
	}
	*c = (struct api_ctx){ .api = api, .req = req, .resp = resp, .done = done,
			       .done_arg = arg, .inline_pw = inline_pw };
	c->dispatching = true;
	api_dispatch(c);
	c->dispatching = false;
	if (!c->pending)
		api_finish(c);
}

void api_handle_async(struct api *api, const struct api_req *req,
		      struct api_resp *resp, api_done_fn *done, void *arg)
{
	api_handle_ctx(api, req, resp, done, arg, false);
}

static void api_sync_done(void *arg)
{
	*(bool *)arg = true;
}

void api_handle(struct api *api, const struct api_req *req,
		struct api_resp *resp)
{
	bool finished = false;

	api_handle_ctx(api, req, resp, api_sync_done, &finished, true);
	if (!finished)
		abort();	/* inline checks finish before they return */
}

static void api_pw_checked(void *arg, enum auth_pw_result r)
{
	struct api_ctx *c = arg;

	if (r == AUTH_PW_ABORTED)
		api_reply_error(c, 503, "unavailable", NULL, "the hub is stopping");
	else
		c->resume(c, r == AUTH_PW_OK);
	c->pending = false;
	if (!c->dispatching)
		api_finish(c);
}

int api_pw_check(struct api_ctx *c, const char *hash, const char *pw,
		 const char *source, api_resume_fn *resume)
{
	struct auth_throttle_policy pol;
	bool clean;
	int rc;

	if (c->api->pw_stopped && !c->inline_pw) {
		api_reply_error(c, 503, "unavailable", NULL, "the hub is stopping");
		return -1;
	}
	c->resume = resume;
	c->pending = true;
	api_login_policy(c->api, &pol);
	clean = !auth_throttle_failures(&c->api->throttle, &pol, source,
					api_throttle_now(c->api));
	rc = auth_pwcheck_submit(c->inline_pw ? NULL : c->api->pw, hash, pw, strlen(pw),
				 source, clean, api_pw_checked, c);
	if (rc == 0)
		return 0;
	c->pending = false;
	api_reply_header(c, "Retry-After: 1");
	if (rc == -EBUSY)
		api_reply_error(c, 429, "too_many_requests", NULL, "a login from this "
				"address is being checked; retry in 1 s");
	else
		api_reply_error(c, 503, "unavailable", NULL, "too many logins are "
				"being checked; retry in 1 s");
	return -1;
}

int api_start_workers(struct api *api, struct loop *loop)
{
	if (api->pw)
		return 0;
	api->pw = auth_pwcheck_new(loop, AUTH_PWCHECK_THREADS, AUTH_PWCHECK_QUEUE);
	return api->pw ? 0 : -errno;
}

void api_stop_workers(struct api *api)
{
	struct auth_pwcheck *p = api->pw;

	if (!p)
		return;
	api->pw = NULL;
	api->pw_stopped = true;
	auth_pwcheck_free(p);
}

/* "DIR/NAME" or a copy of `given`. */
static char *api_path(const char *dir, const char *given, const char *name)
{
	char *p;

	if (given)
		return strdup(given);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static void api_find_group(struct api *api, const char *name)
{
	struct group *g = getgrnam(name ? name : "postern");

	api->have_group = g != NULL;
	if (g)
		api->group = g->gr_gid;
	else
		log_info("no group '%s': the control socket admits root only",
			 name ? name : "postern");
}

/* Every audit entry is offered to the webhooks in its transaction, those
 * written while the log opens (audit.head_reset) included. */
static int api_audit_hook(struct api *api)
{
	api->audit.appended = events_outbox_add;
	api->audit.appended_ctx = &api->store;
	return 0;
}

static int api_open_parts(struct api *api, const struct api_config *cfg,
			  char *err, size_t errlen)
{
	char *db = api_path(cfg->data_dir, NULL, STORE_DB_NAME);
	char *sk = api_path(cfg->data_dir, cfg->secret_key, "secret.key");
	char *ak = api_path(cfg->data_dir, cfg->audit_key, "audit.key");
	char *head = api_path(cfg->data_dir, cfg->audit_head, "audit.head");
	int rc = -1;

	if (!db || !sk || !ak || !head || asprintf(&api->audit_pub, "%s.pub", ak) < 0) {
		api->audit_pub = NULL;
		snprintf(err, errlen, "out of memory");
	} else if (store_open(&api->store, db, 0, err, errlen) == 0 &&
		   secret_keyring_load(&api->keys, sk, true, err, errlen) == 0 &&
		   secret_keyring_recover(&api->keys, &api->store, err, errlen) == 0 &&
		   api_audit_hook(api) == 0 &&
		   audit_open(&api->audit, &api->store, ak, head, err, errlen) == 0) {
		rc = 0;
	}
	free(db);
	free(sk);
	free(ak);
	free(head);
	return rc;
}

/* jansson holds request bodies (passwords, private keys) and responses
 * (new tokens): every block it frees is wiped first. */
static void api_json_free(void *p)
{
	if (p)
		secure_wipe(p, malloc_usable_size(p));
	free(p);
}

struct api *api_open(const struct api_config *cfg, char *err, size_t errlen)
{
	struct api *api = calloc(1, sizeof(*api));

	json_set_alloc_funcs(malloc, api_json_free);
	if (!api) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", cfg->data_dir, strerror(errno));
		free(api);
		return NULL;
	}
	pthread_mutex_init(&api->cert_metrics.lock, NULL);
	if (api_open_parts(api, cfg, err, errlen) < 0) {
		api_close(api);
		return NULL;
	}
	if (cfg->public_url)
		api->public_url = strdup(cfg->public_url);
	api_find_group(api, cfg->group);
	api_settings_apply(api);
	return api;
}

void api_close(struct api *api)
{
	if (!api)
		return;
	api_stop_workers(api);
	api_events_stop(api);
	if (api->audit.head_path && audit_checkpoint(&api->audit, true) < 0)
		log_err("could not sign the audit tail before stopping");
	audit_close(&api->audit);
	api_cert_expiry_free(api);
	shtext_clear(&api->cert_metrics);
	pthread_mutex_destroy(&api->cert_metrics.lock);
	if (api->keys.path)
		secret_keyring_free(&api->keys);
	store_close(&api->store);
	free(api->audit_pub);
	free(api->public_url);
	free(api);
}

int api_metrics_render(struct api *api, struct buf *out)
{
	if (events_worker_metrics_render(api ? api->events : NULL, out) < 0)
		return -ENOBUFS;
	return api ? shtext_append_to(&api->cert_metrics, out) : 0;
}

void api_tick(struct api *api)
{
	int64_t now = store_now_ms();
	char sql[256];

	if (now - api->last_tick_ms < API_TICK_MS)
		return;
	api->last_tick_ms = now;
	audit_checkpoint(&api->audit, false);
	snprintf(sql, sizeof(sql),
		 "DELETE FROM sessions WHERE expires_at < %lld;"
		 "DELETE FROM user_setup_tokens WHERE expires_at < %lld;",
		 (long long)now, (long long)now);
	store_exec(&api->store, sql, NULL, 0);
	api_cert_expiry_check(api, now / 1000);
}
