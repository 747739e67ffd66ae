/* api_machine_run.c - route tokens and share links at work: the
 * workers' table, their batched last-use times, and opening a share link
 * (control thread; the resources are in api_machine.c). */
#define LOG_SUBSYS "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_portal.h"
#include "auth/auth_creds.h"
#include "core/log.h"
#include "core/secure.h"
#include "http/form.h"

/* Reads the tokens and the share links that are still live. */
static int api_machine_read(struct api *api, struct auth_creds *t)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT id, route_id, hash FROM"
					 " route_tokens ORDER BY id");
	int rc = SQLITE_ERROR;

	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (auth_creds_add_token(t, sqlite3_column_int64(st, 0),
					 (uint64_t)sqlite3_column_int64(st, 1),
					 (const char *)sqlite3_column_text(st, 2)) < 0)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	st = store_prepare(&api->store, "SELECT id, route_id, nonce, expires_at FROM share_links"
			   " WHERE expires_at > ? ORDER BY id");
	rc = SQLITE_ERROR;
	if (st)
		sqlite3_bind_int64(st, 1, store_now_ms());
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct auth_share s = { .id = sqlite3_column_int64(st, 0),
					.route_id = (uint64_t)sqlite3_column_int64(st, 1),
					.nonce = (uint32_t)sqlite3_column_int64(st, 2),
					.expires = sqlite3_column_int64(st, 3) / 1000 };
		if (auth_creds_add_share(t, &s) < 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct auth_creds *api_machine_creds(struct api *api, const struct auth_creds *prev)
{
	struct auth_creds *t = auth_creds_new();

	if (!t || api_machine_read(api, t) < 0) {
		log_err("cannot read the route tokens and share links");
		auth_creds_free(t);
		return NULL;
	}
	auth_creds_finish(t, prev);
	return t;
}

struct api_machine_batch {
	struct api *api;
	int64_t first[32];	/* tokens used for the first time */
	size_t nfirst;
};

static void api_machine_used(void *arg, int64_t id, int64_t used)
{
	struct api_machine_batch *b = arg;
	char sql[96];
	bool first;
	sqlite3_stmt *st = store_prepare(&b->api->store, "UPDATE route_tokens SET"
					 " last_used_at = ? WHERE id = ?");

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM route_tokens WHERE id = %lld"
		 " AND last_used_at IS NULL", (long long)id);
	first = store_query_int(&b->api->store, sql, 0) > 0;
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, used * 1000);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) == SQLITE_DONE && first && b->nfirst < ARRAY_SIZE(b->first))
		b->first[b->nfirst++] = id;
	sqlite3_finalize(st);
}

void api_machine_flush(struct api *api, struct auth_creds *t)
{
	struct api_machine_batch b = { .api = api };

	if (!t || store_begin(&api->store) < 0)
		return;
	if (!auth_creds_dirty(t, api_machine_used, &b)) {
		store_rollback(&api->store);
		return;
	}
	if (store_commit(&api->store) < 0) {
		store_rollback(&api->store);
		log_warn("cannot record the route tokens' last use");
		return;
	}
	for (size_t i = 0; i < b.nfirst; i++) {
		char obj[48];
		snprintf(obj, sizeof(obj), "route_token:%lld", (long long)b.first[i]);
		struct audit_event ev = { "system", "front", "route_token.first_used", obj, "", "" };
		if (audit_record(&api->audit, &ev) < 0)
			log_err("cannot record route_token.first_used");
	}
}

struct api_share_row {
	int64_t id, nonce, expires_ms, uses;
	int64_t max_uses;	/* 0: no cap */
	char host[256], path[API_PORTAL_PATH_MAX];
};

/* The link whose token hashes to `hash`, if it is live for `host`. */
static int api_share_find(struct api *api, const char *hash, const char *host,
			  struct api_share_row *r)
{
	sqlite3_stmt *st = api_row(api, "SELECT s.id, s.nonce, s.expires_at, s.uses,"
		" coalesce(s.max_uses, 0), lower(r.host), r.path_prefix FROM share_links s"
		" JOIN routes r ON r.id = s.route_id WHERE s.hash = ?", STORE_T(hash));

	if (!st)
		return -1;
	r->id = sqlite3_column_int64(st, 0);
	r->nonce = sqlite3_column_int64(st, 1);
	r->expires_ms = sqlite3_column_int64(st, 2);
	r->uses = sqlite3_column_int64(st, 3);
	r->max_uses = sqlite3_column_int64(st, 4);
	store_column_copy(st, 5, r->host, sizeof(r->host));
	store_column_copy(st, 6, r->path, sizeof(r->path));
	sqlite3_finalize(st);
	if (strcmp(r->host, host) || r->expires_ms <= store_now_ms() ||
	    (r->max_uses && r->uses >= r->max_uses))
		return -1;
	return 0;
}

static int api_share_count(struct api *api, int64_t id)
{
	return store_exec_i64(&api->store, "UPDATE share_links SET uses = uses + 1,"
			      " last_used_at = ? WHERE id = ?",
			      (const int64_t[]){ store_now_ms(), id }, 2);
}

/* GET /.postern/share?k=TOKEN on the link's route host: counts the use,
 * sets the route cookie of a share session (until the link expires, at
 * most session.lifetime) and goes to the route's path. */
void api_share_open(struct api_ctx *c)
{
	char k[128], hash[65], host[AUTH_HOST_MAX + 1], obj[48];
	struct api_share_row r;
	int64_t seq, now = (int64_t)time(NULL), exp;
	int found;

	found = http_form_get(c->req->query ? str_cstr(c->req->query) : STR_NULL, "k", k,
			      sizeof(k)) > 0 && api_portal_hub_host(c, host) >= 0;
	if (found)
		api_hash_token(k, hash);
	secure_wipe(k, sizeof(k));
	if ((seq = api_tx_begin(c)) < 0)
		return;
	if (!found || api_share_find(c->api, hash, host, &r) < 0 ||
	    api_share_count(c->api, r.id) < 0) {
		api_tx_abort(c);
		api_portal_message(c, 403, "Link not valid", "This link has expired, was used up"
				   " or was revoked. Ask for a new one.");
		return;
	}
	exp = now + api_setting_int(c->api, "session.lifetime");
	if (exp > r.expires_ms / 1000)
		exp = r.expires_ms / 1000;
	snprintf(obj, sizeof(obj), "share_link:%lld", (long long)r.id);
	if (api_portal_cookie(c, AUTH_COOKIE_ROUTE, host, &(struct auth_claims){
				      .uid = AUTH_SHARE_UID_BASE + r.id,
				      .epoch = (uint32_t)r.nonce, .exp = exp }) < 0) {
		api_tx_abort(c);
		api_portal_message(c, 500, "Something went wrong", "Please try again.");
		return;
	}
	if (api_tx_commit(c, seq, r.uses ? "share_link.used" : "share_link.first_used", obj,
			  "", "") < 0)
		return;
	api_reply_header(c, "Location: %s", r.path);
	api_portal_message(c, 303, "Welcome", "Continuing to the site.");
}
