/* schema.c - the store's schema, as numbered migrations.
 *
 * Append-only: never edit a migration that has shipped; add the next
 * number and bump STORE_SCHEMA_VERSION in migrate.h. Every row that can be
 * changed through the API carries `rev`, the sequence number of the audit
 * entry that recorded its last change: it is the row's ETag, and it points
 * at who changed it. Times are milliseconds since the epoch. */
#include "core/compiler.h"
#include "store/migrate.h"

/* Column lists that version 9 restates when it rebuilds a table with
 * AUTOINCREMENT: written once here, used by the table's first CREATE and
 * by the rebuild. Migrations are frozen text (a database's schema is the
 * exact text of these strings): never change a macro here; a new column
 * is a new migration. Each list is the table's columns after `id`. */
#define SCHEMA_USERS_COLS_V1 \
	"  name TEXT NOT NULL UNIQUE," \
	"  role TEXT NOT NULL CHECK (role IN ('admin','operator','viewer'))," \
	"  password_hash TEXT,"		/* Argon2id, encoded; NULL = none yet */ \
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1))," \
	"  created_at INTEGER NOT NULL," \
	"  rev INTEGER NOT NULL"
#define SCHEMA_SESSIONS_COLS_V1 \
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE," \
	"  hash TEXT NOT NULL UNIQUE,"	/* SHA-256 of the cookie value, hex */ \
	"  csrf TEXT NOT NULL," \
	"  client_ip TEXT NOT NULL," \
	"  created_at INTEGER NOT NULL," \
	"  last_seen_at INTEGER NOT NULL," \
	"  expires_at INTEGER NOT NULL"
#define SCHEMA_API_TOKENS_COLS_V1 \
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE," \
	"  name TEXT NOT NULL," \
	"  scope TEXT NOT NULL CHECK (scope IN ('read','write'))," \
	"  hash TEXT NOT NULL UNIQUE,"	/* SHA-256 of the token, hex */ \
	"  hint TEXT NOT NULL,"		/* its first characters */ \
	"  created_at INTEGER NOT NULL," \
	"  expires_at INTEGER," \
	"  last_used_at INTEGER," \
	"  rev INTEGER NOT NULL"
#define SCHEMA_ROUTES_COLS_V1 \
	"  host TEXT NOT NULL," \
	"  path_prefix TEXT NOT NULL DEFAULT '/'," \
	"  agent_id INTEGER REFERENCES agents(id) ON DELETE RESTRICT," \
	"  target TEXT NOT NULL," \
	"  strip_prefix INTEGER NOT NULL DEFAULT 0 CHECK (strip_prefix IN (0,1))," \
	"  created_at INTEGER NOT NULL," \
	"  rev INTEGER NOT NULL"
#define SCHEMA_CERTIFICATES_COLS_V2 \
	"  name TEXT NOT NULL UNIQUE," \
	"  source TEXT NOT NULL DEFAULT 'manual'" \
	"    CHECK (source IN ('manual','acme','self-signed'))," \
	"  names TEXT NOT NULL,"		/* JSON array of DNS names */ \
	"  issuer TEXT NOT NULL," \
	"  serial TEXT NOT NULL," \
	"  fingerprint TEXT NOT NULL,"	/* SHA-256 of the DER, hex */ \
	"  not_before INTEGER NOT NULL," \
	"  not_after INTEGER NOT NULL," \
	"  cert_pem TEXT NOT NULL," \
	"  created_at INTEGER NOT NULL," \
	"  rev INTEGER NOT NULL"
#define SCHEMA_CERTIFICATES_TRIGGER_V2 \
	"CREATE TRIGGER certificates_drop_secrets AFTER DELETE ON certificates" \
	"  BEGIN DELETE FROM secrets" \
	"    WHERE owner = 'certificate' AND owner_id = OLD.id; END;"
#define SCHEMA_AGENTS_COLS_V3 \
	"  name TEXT NOT NULL UNIQUE," \
	"  public_key TEXT UNIQUE," \
	"  tunnel_ipv4 TEXT UNIQUE," \
	"  tunnel_ipv6 TEXT UNIQUE," \
	"  status TEXT NOT NULL DEFAULT 'pending'" \
	"    CHECK (status IN ('pending','enrolled','disabled'))," \
	"  version TEXT," \
	"  last_seen_at INTEGER," \
	"  created_at INTEGER NOT NULL," \
	"  rev INTEGER NOT NULL"
#define SCHEMA_WEBHOOKS_COLS_V7 \
	"  name TEXT NOT NULL UNIQUE," \
	"  url TEXT NOT NULL," \
	"  format TEXT NOT NULL DEFAULT 'json'" \
	"    CHECK (format IN ('json','slack','discord','ntfy'))," \
	"  events TEXT NOT NULL DEFAULT '*'," \
	"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1))," \
	"  allow_private INTEGER NOT NULL DEFAULT 0 CHECK (allow_private IN (0,1))," \
	"  disabled_reason TEXT," \
	"  prev_secret_until INTEGER," \
	"  created_at INTEGER NOT NULL," \
	"  rev INTEGER NOT NULL"

/* Version 1: users, sessions, API tokens, agents, routes, settings and the
 * audit chain. */
static const char schema_v1[] =
	"CREATE TABLE schema_migrations ("
	"  version INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  applied_at INTEGER NOT NULL);"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"		/* JSON text */
	"  rev INTEGER NOT NULL);"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_USERS_COLS_V1 ");"
	"CREATE TABLE user_setup_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  hash TEXT NOT NULL UNIQUE,"	/* SHA-256 of the token, hex */
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_SESSIONS_COLS_V1 ");"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_API_TOKENS_COLS_V1 ");"
	"CREATE INDEX api_tokens_user ON api_tokens(user_id);"
	"CREATE TABLE agents ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  public_key TEXT UNIQUE,"
	"  tunnel_ip TEXT UNIQUE,"
	"  status TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (status IN ('pending','enrolled','disabled')),"
	"  created_at INTEGER NOT NULL,"
	"  rev INTEGER NOT NULL);"
	"CREATE TABLE agent_join_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,"
	"  hash TEXT NOT NULL UNIQUE,"	/* SHA-256 of the token, hex */
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER);"
	"CREATE INDEX agent_join_tokens_agent ON agent_join_tokens(agent_id);"
	"CREATE TABLE routes ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_ROUTES_COLS_V1 ","
	"  UNIQUE (host, path_prefix));"
	"CREATE INDEX routes_agent ON routes(agent_id);"
	/* The audit chain: see docs/control-plane.md for the hash encoding.
	 * The triggers stop mistakes, not attackers (who can drop them);
	 * the hash chain and signed checkpoints catch the attackers. */
	"CREATE TABLE audit_log ("
	"  seq INTEGER PRIMARY KEY,"
	"  time_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  before_json TEXT NOT NULL,"
	"  after_json TEXT NOT NULL,"
	"  prev_hash BLOB NOT NULL,"
	"  hash BLOB NOT NULL);"
	"CREATE TABLE audit_checkpoints ("
	"  seq INTEGER PRIMARY KEY,"	/* the last entry it covers */
	"  head_hash BLOB NOT NULL,"
	"  time_ms INTEGER NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  signature BLOB NOT NULL);"
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
	"  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
	"  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
	"CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints"
	"  BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;"
	"CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints"
	"  BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;";

/* Version 2: certificates, and the encrypted secrets table that holds
 * their private keys (and, later, OIDC client secrets, DNS API tokens and
 * webhook secrets). A secret belongs to (owner, owner_id, name), which is
 * also the ciphertext's associated data: see src/store/secret.h. */
static const char schema_v2[] =
	"CREATE TABLE secrets ("
	"  owner TEXT NOT NULL,"
	"  owner_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  nonce BLOB NOT NULL,"
	"  ciphertext BLOB NOT NULL,"
	"  PRIMARY KEY (owner, owner_id, name)) WITHOUT ROWID;"
	"CREATE TABLE certificates ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_CERTIFICATES_COLS_V2 ");"
	SCHEMA_CERTIFICATES_TRIGGER_V2;

/* Version 3: an agent has an IPv4 and an IPv6 tunnel address (version 1
 * had one column holding either: the rebuild sorts existing values into
 * the right one), plus what its heartbeat reports; routes gain the
 * target options (https verification, TCP listener) and the front's
 * redirect/HSTS switches, and a reserved `policy` column for the auth
 * and access issues. */
static const char schema_v3[] =
	"CREATE TABLE agents_v3 ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_AGENTS_COLS_V3 ");"
	"INSERT INTO agents_v3 (id, name, public_key, tunnel_ipv4, tunnel_ipv6,"
	"                       status, created_at, rev)"
	"  SELECT id, name, public_key,"
	"    CASE WHEN instr(tunnel_ip, ':') = 0 THEN tunnel_ip END,"
	"    CASE WHEN instr(tunnel_ip, ':') > 0 THEN tunnel_ip END,"
	"    status, created_at, rev FROM agents;"
	"DROP TABLE agents;"
	"ALTER TABLE agents_v3 RENAME TO agents;"
	"ALTER TABLE routes ADD COLUMN redirect_https INTEGER NOT NULL DEFAULT 1"
	"  CHECK (redirect_https IN (0,1));"
	"ALTER TABLE routes ADD COLUMN hsts_max_age INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE routes ADD COLUMN tls_verify INTEGER NOT NULL DEFAULT 1"
	"  CHECK (tls_verify IN (0,1));"
	"ALTER TABLE routes ADD COLUMN tls_server_name TEXT;"
	"ALTER TABLE routes ADD COLUMN tcp_listen_port INTEGER;"
	"ALTER TABLE routes ADD COLUMN policy TEXT;"
	"CREATE UNIQUE INDEX routes_tcp_listen_port ON routes(tcp_listen_port)"
	"  WHERE tcp_listen_port IS NOT NULL;";

/* Version 4: an agent is a Postern agent or a standard WireGuard peer
 * (an agentless node the hub routes to directly), and keeps the last
 * heartbeat it sent (target health, errors) as JSON. */
static const char schema_v4[] =
	"ALTER TABLE agents ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent'"
	"  CHECK (kind IN ('agent','wireguard'));"
	"ALTER TABLE agents ADD COLUMN heartbeat TEXT;";

/* Version 5: the last address an agent's WireGuard packets came from, so
 * a restarted hub reaches it at once. */
static const char schema_v5[] =
	"ALTER TABLE agents ADD COLUMN last_endpoint TEXT;";

/* Version 6: certificates the hub obtains itself. `acme` holds how it
 * orders one (JSON: challenge, key_type, dns_provider; NULL = imported,
 * never renewed by the hub), `last_error` the newest failure (cleared by
 * the next success) and `revoked_at` when the CA revoked it. */
static const char schema_v6[] =
	"ALTER TABLE certificates ADD COLUMN acme TEXT;"
	"ALTER TABLE certificates ADD COLUMN last_error TEXT;"
	"ALTER TABLE certificates ADD COLUMN revoked_at INTEGER;";

/* Version 7: webhooks (docs/webhooks.md). `webhook_outbox` gets one row
 * per (webhook, audit entry) in the entry's own transaction, so an event
 * is never lost and never invented; the delivery worker moves it to
 * delivered or failed and records each attempt in `webhook_attempts`. The
 * secrets (current and, during a rotation, previous) are sealed in
 * `secrets` as ("webhook", id, "secret" | "secret_prev"). */
static const char schema_v7[] =
	"CREATE TABLE webhooks ("
	"  id INTEGER PRIMARY KEY,"
	SCHEMA_WEBHOOKS_COLS_V7 ");"
	"CREATE TABLE webhook_outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending','delivered','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_status INTEGER,"
	"  last_error TEXT,"
	"  done_at INTEGER,"
	"  UNIQUE (webhook_id, seq));"
	"CREATE INDEX webhook_outbox_due ON webhook_outbox(next_at)"
	"  WHERE state = 'pending';"
	"CREATE TABLE webhook_attempts ("
	"  id INTEGER PRIMARY KEY,"
	"  outbox_id INTEGER NOT NULL REFERENCES webhook_outbox(id) ON DELETE CASCADE,"
	"  time INTEGER NOT NULL,"
	"  status INTEGER,"
	"  latency_ms INTEGER NOT NULL,"
	"  error TEXT);"
	"CREATE INDEX webhook_attempts_outbox ON webhook_attempts(outbox_id);";

/* Version 8: users log in to routes: their groups (comma-separated
 * names, auth_users.h), an e-mail address handed to upstreams, the
 * session epoch that signed route cookies carry (bumped to end every
 * session of the user at once), whether a TOTP second factor is
 * enrolled (its secret is sealed in `secrets`), the last TOTP step
 * accepted (each step once), and one-time recovery codes (hashes; a used
 * code's row is deleted). */
static const char schema_v8[] =
	"ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE users ADD COLUMN email TEXT;"
	"ALTER TABLE users ADD COLUMN auth_epoch INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN totp INTEGER NOT NULL DEFAULT 0 CHECK (totp IN (0,1));"
	"ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE user_recovery_codes ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  hash TEXT NOT NULL UNIQUE,"	/* SHA-256 of the code, hex */
	"  created_at INTEGER NOT NULL);";

/* Version 9: IDs are never reused. Without AUTOINCREMENT SQLite hands a
 * deleted highest ID to the next row, so "route:3" in the audit log could
 * mean two routes. Each table whose rows the audit log names (as object or
 * actor) is rebuilt with AUTOINCREMENT, same columns in the same order,
 * rows and IDs kept; the counter starts past the highest ID the audit log
 * ever named, so rows deleted before this version are not reused either. */
static const char schema_v9[] =
	"CREATE TABLE users_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_USERS_COLS_V1 ","
	"  groups TEXT NOT NULL DEFAULT '',"
	"  email TEXT,"
	"  auth_epoch INTEGER NOT NULL DEFAULT 0,"
	"  totp INTEGER NOT NULL DEFAULT 0 CHECK (totp IN (0,1)),"
	"  totp_last_step INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO users_v9 SELECT * FROM users;"
	"DROP TABLE users;"
	"ALTER TABLE users_v9 RENAME TO users;"
	"CREATE TABLE sessions_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_SESSIONS_COLS_V1 ");"
	"INSERT INTO sessions_v9 SELECT * FROM sessions;"
	"DROP TABLE sessions;"
	"ALTER TABLE sessions_v9 RENAME TO sessions;"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE api_tokens_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_API_TOKENS_COLS_V1 ");"
	"INSERT INTO api_tokens_v9 SELECT * FROM api_tokens;"
	"DROP TABLE api_tokens;"
	"ALTER TABLE api_tokens_v9 RENAME TO api_tokens;"
	"CREATE INDEX api_tokens_user ON api_tokens(user_id);"
	"CREATE TABLE agents_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_AGENTS_COLS_V3 ","
	"  kind TEXT NOT NULL DEFAULT 'agent' CHECK (kind IN ('agent','wireguard')),"
	"  heartbeat TEXT,"
	"  last_endpoint TEXT);"
	"INSERT INTO agents_v9 SELECT * FROM agents;"
	"DROP TABLE agents;"
	"ALTER TABLE agents_v9 RENAME TO agents;"
	"CREATE TABLE routes_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_ROUTES_COLS_V1 ","
	"  redirect_https INTEGER NOT NULL DEFAULT 1 CHECK (redirect_https IN (0,1)),"
	"  hsts_max_age INTEGER NOT NULL DEFAULT 0,"
	"  tls_verify INTEGER NOT NULL DEFAULT 1 CHECK (tls_verify IN (0,1)),"
	"  tls_server_name TEXT,"
	"  tcp_listen_port INTEGER,"
	"  policy TEXT,"
	"  UNIQUE (host, path_prefix));"
	"INSERT INTO routes_v9 SELECT * FROM routes;"
	"DROP TABLE routes;"
	"ALTER TABLE routes_v9 RENAME TO routes;"
	"CREATE INDEX routes_agent ON routes(agent_id);"
	"CREATE UNIQUE INDEX routes_tcp_listen_port ON routes(tcp_listen_port)"
	"  WHERE tcp_listen_port IS NOT NULL;"
	"CREATE TABLE certificates_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_CERTIFICATES_COLS_V2 ","
	"  acme TEXT,"
	"  last_error TEXT,"
	"  revoked_at INTEGER);"
	"INSERT INTO certificates_v9 SELECT * FROM certificates;"
	"DROP TABLE certificates;"
	"ALTER TABLE certificates_v9 RENAME TO certificates;"
	SCHEMA_CERTIFICATES_TRIGGER_V2
	"CREATE TABLE webhooks_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	SCHEMA_WEBHOOKS_COLS_V7 ");"
	"INSERT INTO webhooks_v9 SELECT * FROM webhooks;"
	"DROP TABLE webhooks;"
	"ALTER TABLE webhooks_v9 RENAME TO webhooks;"
	/* Each counter past the highest ID of its kind the audit log names. */
	"CREATE TEMP TABLE v9_kinds (tbl TEXT NOT NULL, prefix TEXT NOT NULL);"
	"INSERT INTO v9_kinds VALUES ('users', 'user:'), ('sessions', 'session:'),"
	"  ('api_tokens', 'token:'), ('agents', 'agent:'), ('routes', 'route:'),"
	"  ('certificates', 'certificate:'), ('webhooks', 'webhook:');"
	"INSERT INTO sqlite_sequence (name, seq) SELECT tbl, 0 FROM v9_kinds"
	"  WHERE tbl NOT IN (SELECT name FROM sqlite_sequence);"
	"UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT"
	"    max(CAST(substr(x.ref, length(k.prefix) + 1) AS INTEGER))"
	"    FROM (SELECT object AS ref FROM audit_log UNION ALL"
	"          SELECT actor FROM audit_log) x, v9_kinds k"
	"    WHERE k.tbl = sqlite_sequence.name AND substr(x.ref, 1, length(k.prefix)) = k.prefix),"
	"  0)) WHERE name IN (SELECT tbl FROM v9_kinds);"
	"DROP TABLE v9_kinds;";
/* Version 10: machine credentials of login routes (docs/auth.md). A route
 * token is shown once and stored as its SHA-256; a share link likewise,
 * with its expiry, an optional cap on how often it may be opened, and a
 * random nonce its sessions carry (so a reused row id revives nothing).
 * `created_by` is the actor as the audit log names it. Revoking deletes
 * the row; deleting the route deletes its tokens and links. */
static const char schema_v10[] =
	"CREATE TABLE route_tokens ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  route_id INTEGER NOT NULL REFERENCES routes(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"	/* SHA-256 of the token, hex */
	"  hint TEXT NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER,"
	"  rev INTEGER NOT NULL,"
	"  UNIQUE (route_id, name));"
	"CREATE TABLE share_links ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  route_id INTEGER NOT NULL REFERENCES routes(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  hint TEXT NOT NULL,"
	"  nonce INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  max_uses INTEGER,"
	"  uses INTEGER NOT NULL DEFAULT 0,"
	"  created_by TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER,"
	"  rev INTEGER NOT NULL);";
/* Version 11: passkeys (WebAuthn credentials, docs/auth.md): the
 * credential ID the authenticator chose (unique: bound to one user), its
 * COSE public key as registered, the algorithm, the last signature
 * counter seen; and a user flag that refuses password logins. */
static const char schema_v11[] =
	"CREATE TABLE passkeys ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  cred_id BLOB NOT NULL UNIQUE,"
	"  public_key BLOB NOT NULL,"
	"  alg INTEGER NOT NULL CHECK (alg IN (-7, -8, -257)),"
	"  sign_count INTEGER NOT NULL DEFAULT 0,"
	"  name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER,"
	"  rev INTEGER NOT NULL);"
	"CREATE INDEX passkeys_user ON passkeys(user_id);"
	"ALTER TABLE users ADD COLUMN require_passkey INTEGER NOT NULL DEFAULT 0"
	"  CHECK (require_passkey IN (0,1));";

/* Version 12: sessions logged out one at a time (docs/auth.md, "Design:
 * sessions the workers check alone"). A login session is named by its
 * user and its expiry (the portal cookie's, which every route cookie it
 * hands out inherits); a row here refuses them all until that expiry,
 * after which the row is pruned. */
static const char schema_v12[] =
	"CREATE TABLE session_revocations ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, expires_at)) WITHOUT ROWID;";

/* Version 13: a login session is named by a random id its cookies carry
 * (auth_cookie.h), not by its expiry, which two logins in one second
 * share: a re-login in the second of a logout was born revoked. The v12
 * rows named sessions by expiry, which no token carries any more (their
 * format changed, so every old session has ended); they are dropped.
 * expires_at stays, for pruning. */
static const char schema_v13[] =
	"DROP TABLE session_revocations;"
	"CREATE TABLE session_revocations ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  session_id INTEGER NOT NULL CHECK (session_id > 0),"
	"  expires_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, session_id)) WITHOUT ROWID;";

const struct schema_migration schema_migrations[] = {
	{ 1, "initial", schema_v1 },
	{ 2, "certificates and encrypted secrets", schema_v2 },
	{ 3, "agent tunnel addresses, route target options", schema_v3 },
	{ 4, "agentless WireGuard nodes, agent heartbeats", schema_v4 },
	{ 5, "agents' last endpoint", schema_v5 },
	{ 6, "certificates ordered by the hub (ACME state)", schema_v6 },
	{ 7, "webhooks, their outbox and delivery attempts", schema_v7 },
	{ 8, "user groups, e-mail, session epoch and TOTP", schema_v8 },
	{ 9, "IDs never reused (AUTOINCREMENT)", schema_v9 },
	{ 10, "route tokens and share links", schema_v10 },
	{ 11, "passkeys", schema_v11 },
	{ 12, "sessions logged out one at a time", schema_v12 },
	{ 13, "logged-out sessions named by their id", schema_v13 },
};
const size_t schema_migrations_count = ARRAY_SIZE(schema_migrations);
