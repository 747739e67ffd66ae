/* api_int.h - what the admin API's files share: the control state, the
 * per-request context, the endpoint table and the resource engine. */
#ifndef POSTERN_API_API_INT_H
#define POSTERN_API_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "audit/audit.h"
#include "auth/auth_pwcheck.h"
#include "auth/auth_throttle.h"
#include "auth/auth_users.h"
#include "core/compiler.h"
#include "core/shtext.h"
#include "store/secret.h"
#include "store/store.h"

#define API_JSON_MAX (256u << 10)	/* request bodies */
#define API_JSON_DEPTH 8
#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 500
#define API_SESSION_COOKIE "__Host-postern_session"

struct api_agent_live;
struct events_worker;
struct api_acme_ops;

/* The portal's one-time codes (api_login.c): issued after a login for
 * one route host, traded once at https://HOST/.postern/callback for the
 * host's cookie. Kept in memory on the control thread (a restart voids
 * them: they live seconds). */
#define API_LOGIN_CODES 256
#define API_LOGIN_CODE_MS 60000
#define API_LOGIN_PATH_MAX 1024
struct api_login_code {
	uint8_t hash[32];	/* SHA-256 of the code; all zero = free */
	/* The login session the code hands on (user, epoch, passkey or
	 * not, expiry, id): the route cookie's. */
	struct auth_claims session;
	int64_t expires_ms;
	char host[AUTH_HOST_MAX + 1];
	char path[API_LOGIN_PATH_MAX];	/* where the user was going */
	/* The login state the browser must hold as its state cookie on
	 * `host` ("" = none: the code logs nobody in). */
	char state[AUTH_STATE_LEN + 1];
};

/* WebAuthn challenges the portal issued (api_passkey.c): 256 random
 * bits each, for a user's registration (uid > 0) or a login (uid 0),
 * taken once, for two minutes. In memory on the control thread. */
#define API_PASSKEY_CHALS 256	/* a flood evicts the oldest first */
#define API_PASSKEY_CHAL_MS 120000
struct api_passkey_chal {
	uint8_t chal[32];
	int64_t uid;
	int64_t expires_ms;	/* 0 = free */
};

struct api {
	struct store store;
	struct audit audit;
	struct secret_keyring keys;
	char *audit_pub;	/* the signing key's .pub file */
	char *public_url;	/* from the config, or NULL */
	bool have_group;
	gid_t group;
	struct auth_throttle throttle;	/* failed logins, setups, joins, tokens */
	struct auth_pwcheck *pw;	/* password checks; NULL = inline */
	bool pw_stopped;		/* api_stop_workers ran: logins get 503 */
	int64_t (*clock_ms)(void);	/* the throttle's clock; NULL = the store's */
	api_publish_fn *publish;
	void *publish_ctx;
	api_port_check_fn *port_check;	/* tcp routes' ports (api.h) */
	api_port_status_fn *port_status;
	void *port_check_ctx;
	api_allow_check_fn *allow_check;	/* agents' allowlists (api.h) */
	/* The data plane's view of agents (src/hub/tunnel.c), or NULL. */
	bool (*live)(void *ctx, const uint8_t key[32], struct api_agent_live *out);
	void *live_ctx;
	/* The hub certificate's pin for join commands, or NULL. */
	bool (*join_pin)(void *ctx, char out[65]);
	void *join_pin_ctx;
	int64_t last_tick_ms;
	const struct api_acme_ops *acme;	/* NULL: no [acme] (api_acme.h) */
	struct events_worker *events;	/* webhook delivery, or NULL */
	struct api_expiry *expiry;	/* certificate.expiring (api_cert_expiry.c) */
	/* The certificate expiry gauges' text: replaced by the control
	 * thread's tick (api_cert_expiry_check), copied out by the thread
	 * serving /metrics (api_metrics_render; its own mutex). Made in
	 * api_open, so it lives before and after every reader. */
	struct shtext cert_metrics;
	/* Route login: the cookie key (sealed in the store) and the codes. */
	bool login_key_ok;
	uint8_t login_key[AUTH_KEY_LEN];
	struct api_login_code codes[API_LOGIN_CODES];
	struct api_passkey_chal chals[API_PASSKEY_CHALS];
};

/* What a principal may do; each endpoint names the least it needs. */
enum api_perm {
	API_PERM_NONE = 0,	/* anonymous (login, setup) */
	API_PERM_READ,
	API_PERM_WRITE,
	API_PERM_ADMIN,
	API_PERM_MAX
};

enum api_principal_kind {
	API_WHO_NONE = 0,
	API_WHO_UNIX,
	API_WHO_TOKEN,
	API_WHO_SESSION,
	API_WHO_MAX
};

struct api_principal {
	enum api_principal_kind kind;
	enum api_perm perm;
	int64_t user_id;	/* 0 for unix */
	int64_t token_id;
	int64_t session_id;
	bool read_scope;	/* a token with read scope */
	char user[65];		/* user name, "" for unix */
	char actor[128];	/* as recorded in the audit log */
	char source[64];
};

struct api_ctx;
typedef void api_handler_fn(struct api_ctx *c);

#define API_EP_BODY (1u << 0)	/* takes a JSON body */
#define API_EP_TUNNEL (1u << 1)	/* agents only, inside the tunnel */

struct api_resource;

struct api_endpoint {
	const char *method;
	const char *pattern;	/* "/api/v1/routes/{id}": at most one {param} */
	enum api_perm perm;
	unsigned flags;
	api_handler_fn *fn;
	const struct api_resource *res;	/* for the generic handlers */
	const char *summary;
};

extern const struct api_endpoint api_endpoints[];
extern const size_t api_endpoints_count;

/* Continues a request after its password check (api_pw_check). */
typedef void api_resume_fn(struct api_ctx *c, bool ok);

struct api_ctx {
	struct api *api;
	const struct api_req *req;
	struct api_resp *resp;
	const struct api_endpoint *ep;
	struct api_principal who;
	int64_t id;		/* the {id} path parameter */
	char param[72];		/* the {key} path parameter */
	json_t *body;		/* the parsed body (API_EP_BODY) */
	unsigned changed;	/* API_CHANGED_* to publish after commit */
	char *reveal;		/* a one-time secret for the response */
	const char *reveal_as;	/* its member name; NULL = "token" */
	bool summary;		/* showing a row for an audit summary */
	/* Completion (api_handle_async): the request is answered once no
	 * password check is pending and the dispatcher has returned. */
	api_done_fn *done;
	void *done_arg;
	api_resume_fn *resume;
	bool pending;		/* a password check is in flight */
	bool dispatching;	/* inside api_dispatch */
	bool inline_pw;		/* api_handle: check passwords on this thread */
	/* The portal: the login state the request carries (a well-formed
	 * `state` field, else ""), for the one-time code it may end in. */
	char login_state[AUTH_STATE_LEN + 1];
};

/* --- endpoint matching (api_endpoint.c) --- */
/* Finds the endpoint for (method, path), filling c->id / c->param.
 * Returns it; NULL with *path_known set when only the method is wrong. */
const struct api_endpoint *api_endpoint_match(struct api_ctx *c,
					      const char *method,
					      const char *path, bool *path_known);
/* "GET, POST" for a path: the Allow header of a 405. */
void api_endpoint_allow(const char *path, char *out, size_t len);

/* --- responses (api_reply.c) --- */
void api_reply_error(struct api_ctx *c, int status, const char *code,
		     const char *field, const char *fmt, ...) PRINTF_LIKE(5, 6);
/* A handler's statement: store_prepare(`sql`), or NULL after replying 500
 * (why it failed is logged, never told to the client). */
sqlite3_stmt *api_prepare(struct api_ctx *c, const char *sql);
/* Sends `obj` (reference stolen) with `status`. */
void api_reply_json(struct api_ctx *c, int status, json_t *obj);
void api_reply_empty(struct api_ctx *c, int status);
void api_reply_header(struct api_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
void api_reply_etag(struct api_ctx *c, int64_t rev);
/* If-Match against the current rev: returns 0 (matches, or absent and not
 * `required`), or -1 after replying 428 / 412. */
int api_if_match(struct api_ctx *c, int64_t rev, bool required);
/* Replies 428 when there is no If-Match at all (before anything else is
 * looked at). Returns 0 or -1. */
int api_if_match_required(struct api_ctx *c);
/* Maps the store's last error (constraint kinds) to a reply. */
void api_reply_store_error(struct api_ctx *c, const char *fk_field);

/* --- request decoding (api_json.c) --- */
/* Parses a JSON request body: at most API_JSON_MAX bytes and
 * API_JSON_DEPTH levels, UTF-8, no duplicate keys, an object at the top.
 * Returns the object, or NULL with the problem in `why`. */
json_t *api_json_parse(const uint8_t *body, size_t len, char *why, size_t whylen);
/* The nesting depth of a JSON text (outside strings), or -1 if brackets
 * do not balance. Bounded by `len`; never recurses. */
int api_json_depth(const uint8_t *p, size_t len);
/* Reads ?limit=N&after=ID. Returns 0 or -1 after replying 400. */
int api_query_page(struct api_ctx *c, int64_t *limit, int64_t *after);
/* The member `name` of the body if it is a string, else NULL. */
const char *api_body_str(struct api_ctx *c, const char *name);
/* Rejects any member of the body not in `allowed` (NULL-terminated).
 * Returns 0 or -1 after replying 400 naming it. */
int api_body_only(struct api_ctx *c, const char *const *allowed);

/* A write transaction of the system's own (actor "system", no request):
 * returns its seq or -1 (nothing begun). */
int64_t api_sys_tx_begin(struct api *api);
/* Records `action` and commits; rolls back and logs on failure.
 * Returns 0 or -1. */
int api_sys_tx_commit(struct api *api, int64_t seq, const char *action,
		      const char *object, const char *before, const char *after);

/* --- route login (api_login.c, api_portal.c) --- */
/* The cookie key into key, made and sealed in the store (audited) the
 * first time, and then published to the workers. Returns 0 or -1. */
int api_login_key(struct api *api, uint8_t key[AUTH_KEY_LEN]);
/* The same, without making one unless `create`. */
int api_login_key_get(struct api *api, uint8_t key[AUTH_KEY_LEN], bool create);
/* A new one-time code for the login session `session` (its claims) to
 * trade on `host` (normalised) before going to `path` by the browser that
 * holds login state `state` ("" for none), into code (44 bytes).
 * Returns 0 or -1. */
int api_login_code_new(struct api *api, const struct auth_claims *session, const char *host,
		       const char *path, const char *state, char code[44]);
/* Takes code `code` for `host`: once, before it expires; a code tried on
 * another host is spent too. Returns 0 with *out filled, or -1. */
int api_login_code_take(struct api *api, const char *code, const char *host,
			struct api_login_code *out);
/* The session epoch of enabled user `uid`, or -1 (no such user,
 * disabled). */
int64_t api_login_epoch(struct api *api, int64_t uid);
/* The identity assertion's keys for the snapshot (api_assert.c): NULL
 * when there is no key (made first when `create`) or no public URL to
 * name the issuer. The caller owns the result. */
struct auth_assert *api_assert_build(struct api *api, bool create);
/* GET /.well-known/jwks.json on the hub's host. */
void api_assert_jwks_reply(struct api_ctx *c);
/* Ends every route and portal session of `uid` (a new epoch), inside
 * the caller's transaction, and marks the users for publishing. */
int api_login_revoke(struct api_ctx *c, int64_t uid);
/* Ends the one login session `cl` names (user, id): its portal cookie
 * and every route cookie it handed out ("log out" on one device), inside
 * the caller's transaction; forgets logged-out sessions past their
 * expiry, and marks the users for publishing. Returns 0 or -1. */
int api_login_revoke_session(struct api_ctx *c, const struct auth_claims *cl);
/* Whether the session (uid, sid) was logged out (control thread). */
bool api_login_session_revoked(struct api *api, int64_t uid, int64_t sid);
/* Sets a password with a setup token (throttled per address): returns
 * the user's id once committed, 0 for a bad, used or expired token (the
 * failure counted, Retry-After added, nothing else replied), or -1 after
 * replying (429, 500, 503). */
int64_t api_user_setup_with(struct api_ctx *c, const char *token, const char *pw);
/* Checks a TOTP code, or a recovery code (spent), of user uid; records
 * the step. Inside the caller's transaction. Returns 0 or -1. */
int api_totp_second(struct api_ctx *c, int64_t uid, const char *code);
/* Whether uid has a TOTP factor. */
bool api_totp_enrolled(struct api *api, int64_t uid);
/* Whether uid must have a second factor (login.admin_second_factor and
 * an admin). */
bool api_totp_required(struct api *api, int64_t uid);
/* Whether uid must log in with a passkey (api_passkey.c). */
bool api_passkey_required(struct api *api, int64_t uid);
/* The portal's pages and the route callback (c->req is HTTPS, not /api/). */
void api_portal(struct api_ctx *c);

/* --- password logins shared by the API and the portal (api_session.c) --- */
/* Looks up a user for login: fills c->who.user_id and returns the
 * password hash (free() it), or NULL (no such user, disabled, or no
 * password yet). */
char *api_session_user(struct api_ctx *c, const char *name);
/* A login's throttling keys (address, and account from the address). */
void api_login_keys(struct api_ctx *c, const char *user, char addr[AUTH_THROTTLE_KEY],
		    char acct[AUTH_THROTTLE_KEY]);
/* Records a password verdict for `user`: on failure audits it, counts it
 * against both keys and adds Retry-After (the caller replies); on success
 * forgets the account key. Returns 0 for success, -1 for failure. */
int api_login_verdict(struct api_ctx *c, const char *user, bool ok);

/* --- authentication (api_auth.c) --- */
/* Establishes c->who from the transport, bearer token or session cookie
 * and checks CSRF/Origin. Returns 0, or -1 after replying 401/403/429. */
int api_auth(struct api_ctx *c);
/* The throttle's policy (login.max_failures, login.lockout) and clock. */
void api_login_policy(struct api *api, struct auth_throttle_policy *p);
int64_t api_throttle_now(struct api *api);
/* PREFIX + the client's throttling address (auth_throttle_addr) into out
 * (AUTH_THROTTLE_KEY bytes). */
void api_addr_key(struct api_ctx *c, const char *prefix, char *out);
/* Refuses a throttling key that has to wait (auth_throttle.h).
 * Returns 0, or -1 after replying 429 with Retry-After. */
int api_login_throttled(struct api_ctx *c, const char *key);
/* Counts an authentication failure against `key`; audits the moment a
 * key starts being delayed (not every attempt: a guesser must not be able
 * to fill the log). Returns the delay now imposed on the key in ms. */
int64_t api_login_failed(struct api_ctx *c, const char *key);
/* Adds "Retry-After: N" for a delay in ms (nothing for 0). */
void api_reply_retry_after(struct api_ctx *c, int64_t delay_ms);
/* Checks `pw` against `hash` (NULL: no such user) on the password pool
 * and continues with resume(c, ok) on the control thread; the reply goes
 * out once resume has run. `source` is the client's address key: one
 * check per address at a time, and an address with no failures on record
 * is checked before those that have some. Returns 0, or -1 after replying (429 when
 * the address has a check in flight, 503 when the pool is full). */
int api_pw_check(struct api_ctx *c, const char *hash, const char *pw,
		 const char *source, api_resume_fn *resume);
/* Whether an Origin header value is this hub's origin. */
bool api_origin_ok(struct api_ctx *c, const char *origin);
/* Records an audit event by the current principal in its own
 * transaction (logins, token use). */
void api_audit_event(struct api_ctx *c, const char *action, const char *object,
		     const char *after);
/* SHA-256 of `s` as lower-case hex into out[65]. */
void api_hash_token(const char *s, char out[65]);
/* A new random token "PREFIX" + base64url(32 bytes) (free it with
 * secure_free(p, strlen(p))). */
char *api_new_token(const char *prefix);
/* A token shown once: a new one in c->reveal, and its SHA-256 ("hash")
 * and first `hint` characters ("hint") in `row`. Returns 0, or -1 after
 * replying 500. */
int api_reveal_token(struct api_ctx *c, const char *prefix, size_t hint, json_t *row);

/* One-row lookups (api.c): prepares `sql`, binds `arg` to ?1 (a text
 * must live until the statement is finalized) and steps to the first
 * row. Returns the statement standing on that row, which the caller
 * reads and finalizes; NULL when there is no row, when the step fails, or
 * when it cannot be prepared (logged). */
sqlite3_stmt *api_row(struct api *api, const char *sql, struct store_arg arg);

/* --- transactions with their audit entry (api.c) --- */
/* Opens a write transaction and reserves its audit seq. Returns the
 * seq (the rev of changed rows), or -1 after replying 500. */
int64_t api_tx_begin(struct api_ctx *c);
/* Appends the audit entry (actor and source from c->who) and commits,
 * then makes a checkpoint if due and publishes c->changed. Returns 0, or
 * -1 after rolling back and replying 500. */
int api_tx_commit(struct api_ctx *c, int64_t seq, const char *action,
		  const char *object, const char *before, const char *after);
void api_tx_abort(struct api_ctx *c);
/* A non-secret string setting's stored value into out. Returns 0, or
 * -1 when unset, empty or longer than len - 1. */
int api_setting_str(struct api *api, const char *key, char *out, size_t len);
/* A setting's effective integer value (stored, else the default). */
int64_t api_setting_int(struct api *api, const char *key);

/* Announces certificates past a `certificate.expiring_days` threshold
 * (once each) and refreshes their expiry gauge (api_cert_expiry.c). */
void api_cert_expiry_check(struct api *api, int64_t now_s);
void api_cert_expiry_free(struct api *api);
/* The hub's public URL: the hub.public_url setting, the config
 * (https:// + [hub] hostname), or the request's Host, in that order. */
void api_public_url(struct api_ctx *c, char *out, size_t len);
/* The hub.public_url setting into out; false (out "") when unset. */
bool api_setting_public_url(struct api *api, char *out, size_t len);
/* Applies settings the control side caches (audit checkpoint policy). */
void api_settings_apply(struct api *api);

#endif
