/* test_store.c - store open, migrations from every earlier version,
 * secrets at rest and key rotation, backup. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "fixture.h"

#include "core/log.h"
#include "core/secure.h"
#include "store/keyfile.h"
#include "store/migrate.h"
#include "store/cert.h"
#include "store/secret.h"
#include "store/store.h"

/* Each earlier schema version has its migrates_versionN_with_data test
 * below (v1 to v5). A new version must add one for the version it
 * supersedes before this is bumped. */
_Static_assert(STORE_SCHEMA_VERSION == 13,
	       "a new schema version needs a migrates_version13_with_data test");

static char errbuf[512];

static int64_t q(struct store *s, const char *sql)
{
	return store_query_int(s, sql, -999);
}

static const char *qtext(struct store *s, const char *sql)
{
	static char out[512];
	sqlite3_stmt *st = store_prepare(s, sql);

	out[0] = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* A store created by this binary's migrations up to version `v`. */
static int open_at_version(struct store *s, const char *path, int v)
{
	if (store_open(s, path, STORE_F_NO_MIGRATE, errbuf, sizeof(errbuf)) < 0)
		return -1;
	return migrate_to(s, v, errbuf, sizeof(errbuf));
}

/* A store in a temporary directory of its own, at DIR/postern.db. */
struct db {
	const char *dir;
	char path[512];
	struct store s;
};

static void db_dir(struct db *d)
{
	d->dir = fixture_tmpdir();
	snprintf(d->path, sizeof(d->path), "%s/postern.db", d->dir);
}

/* A new store at the current schema version. */
static void db_new(struct db *d)
{
	db_dir(d);
	CHECK_EQ_INT(store_open(&d->s, d->path, 0, errbuf, sizeof(errbuf)), 0);
}

/* A store created by this binary's migrations up to version `v`. */
static void db_old(struct db *d, int v)
{
	db_dir(d);
	CHECK_EQ_INT(open_at_version(&d->s, d->path, v), 0);
}

/* Closes the store and opens it again (migrating it to this version). */
static void db_reopen(struct db *d)
{
	store_close(&d->s);
	CHECK_EQ_INT(store_open(&d->s, d->path, 0, errbuf, sizeof(errbuf)), 0);
}

/* Runs `sql` on the old store (it must succeed), then reopens it, which
 * migrates it to the current version. */
static void db_upgrade(struct db *d, const char *sql)
{
	CHECK_EQ_INT(store_exec(&d->s, sql, errbuf, sizeof(errbuf)), 0);
	db_reopen(d);
	CHECK_EQ_INT(d->s.version, STORE_SCHEMA_VERSION);
}

static void db_free(struct db *d)
{
	store_close(&d->s);
	fixture_rmdir(d->dir);
}

TEST(open_sets_up_a_new_store)
{
	struct db d;
	struct stat sb;

	db_new(&d);
	CHECK_EQ_INT(d.s.version, STORE_SCHEMA_VERSION);
	CHECK_EQ_STR(qtext(&d.s, "PRAGMA journal_mode"), "wal");
	CHECK_EQ_INT(q(&d.s, "PRAGMA foreign_keys"), 1);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM schema_migrations"),
		     STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(stat(d.path, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	/* A foreign key is enforced: a route on a missing agent fails. */
	CHECK(store_exec(&d.s, "INSERT INTO routes(host, agent_id, target, "
			 "created_at, rev) VALUES ('a.test', 42, 'http://x:1', 0, 1)",
			 errbuf, sizeof(errbuf)) < 0);
	/* Reopening applies nothing. */
	db_reopen(&d);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM schema_migrations"),
		     STORE_SCHEMA_VERSION);
	db_free(&d);
}

TEST(open_refuses_a_newer_schema)
{
	struct db d;

	db_new(&d);
	CHECK_EQ_INT(store_exec(&d.s, "PRAGMA user_version = 99", NULL, 0), 0);
	store_close(&d.s);
	CHECK_EQ_INT(store_open(&d.s, d.path, 0, errbuf, sizeof(errbuf)), -1);
	CHECK(strstr(errbuf, "version 99") != NULL);
	CHECK(strstr(errbuf, "newer postern") != NULL);
	/* Read-only openers (backup, verify) refuse it too. */
	CHECK_EQ_INT(store_open(&d.s, d.path, STORE_F_READONLY, errbuf, sizeof(errbuf)), -1);
	fixture_rmdir(d.dir);
}

/* Data a version-1 hub would have written. */
static const char v1_data[] =
	"INSERT INTO users(id, name, role, password_hash, created_at, rev) VALUES"
	" (1, 'admin', 'admin', '$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA', 5, 1);"
	"INSERT INTO api_tokens(id, user_id, name, scope, hash, hint, created_at, rev)"
	" VALUES (1, 1, 'ci', 'read', '00112233', 'pt_ab', 6, 2);"
	"INSERT INTO agents(id, name, public_key, tunnel_ip, status, created_at, rev)"
	" VALUES (1, 'nas', 'pk1', '100.96.0.2', 'enrolled', 7, 3),"
	"        (2, 'pi', NULL, 'fd7a::3', 'pending', 8, 4),"
	"        (3, 'old', NULL, NULL, 'disabled', 9, 5);"
	"INSERT INTO routes(id, host, path_prefix, agent_id, target, strip_prefix,"
	" created_at, rev) VALUES"
	" (1, 'nas.example.com', '/', 1, 'http://192.168.1.10:5000', 0, 10, 6),"
	" (2, 'pi.example.com', '/api', 2, 'https://10.0.0.5:8443', 1, 11, 7);"
	"INSERT INTO settings(key, value, rev) VALUES ('audit.checkpoint_entries', '8', 8);";

static void check_v1_data_kept(struct store *s)
{
	CHECK_EQ_STR(qtext(s, "SELECT name FROM users WHERE id = 1"), "admin");
	CHECK_EQ_STR(qtext(s, "SELECT scope FROM api_tokens WHERE id = 1"), "read");
	CHECK_EQ_STR(qtext(s, "SELECT value FROM settings"), "8");
	/* Version 3 sorted the single tunnel address into v4 and v6. */
	CHECK_EQ_STR(qtext(s, "SELECT tunnel_ipv4 FROM agents WHERE id = 1"), "100.96.0.2");
	CHECK_EQ_INT(q(s, "SELECT tunnel_ipv6 IS NULL FROM agents WHERE id = 1"), 1);
	CHECK_EQ_STR(qtext(s, "SELECT tunnel_ipv6 FROM agents WHERE id = 2"), "fd7a::3");
	CHECK_EQ_INT(q(s, "SELECT tunnel_ipv4 IS NULL FROM agents WHERE id = 2"), 1);
	CHECK_EQ_STR(qtext(s, "SELECT status FROM agents WHERE id = 3"), "disabled");
	CHECK_EQ_STR(qtext(s, "SELECT public_key FROM agents WHERE id = 1"), "pk1");
	/* Routes kept their values and got the new columns' defaults. */
	CHECK_EQ_STR(qtext(s, "SELECT target FROM routes WHERE id = 2"), "https://10.0.0.5:8443");
	CHECK_EQ_INT(q(s, "SELECT strip_prefix FROM routes WHERE id = 2"), 1);
	CHECK_EQ_INT(q(s, "SELECT tls_verify FROM routes WHERE id = 2"), 1);
	CHECK_EQ_INT(q(s, "SELECT redirect_https FROM routes WHERE id = 1"), 1);
	CHECK_EQ_INT(q(s, "SELECT policy IS NULL FROM routes WHERE id = 1"), 1);
	/* References survived the agents table rebuild, and are enforced. */
	CHECK_EQ_INT(q(s, "SELECT count(*) FROM routes r JOIN agents a ON a.id = r.agent_id"), 2);
	CHECK(store_exec(s, "DELETE FROM agents WHERE id = 1", NULL, 0) < 0 ||
	      q(s, "SELECT count(*) FROM agents WHERE id = 1") == 1);
	CHECK_EQ_INT(q(s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

TEST(migrates_version1_with_data)
{
	struct db d;

	db_old(&d, 1);
	CHECK_EQ_INT(migrate_version(&d.s), 1);
	db_upgrade(&d, v1_data);
	check_v1_data_kept(&d.s);
	/* The rebuilt agents table still refuses a duplicate name. */
	CHECK(store_exec(&d.s, "INSERT INTO agents(name, created_at, rev) "
			 "VALUES ('nas', 1, 1)", NULL, 0) < 0);
	db_free(&d);
}

TEST(migrates_version2_with_data_and_secrets)
{
	struct secret_keyring kr;
	struct db d;
	uint8_t *val = NULL;
	size_t len = 0;

	db_old(&d, 2);
	CHECK_EQ_INT(secret_keyring_load(&kr, fixture_path(d.dir, "secret.key"), true,
					 errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(store_exec(&d.s, v1_data, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO certificates(id, name, names, issuer,"
		" serial, fingerprint, not_before, not_after, cert_pem, created_at, rev)"
		" VALUES (4, 'nas', '[\"nas.example.com\"]', 'CN=test', '01', 'ab',"
		" 1, 2, '-----BEGIN CERTIFICATE-----', 3, 9)", errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(secret_put(&d.s, &kr, "certificate", 4, "key", "PRIVATE", 7), 0);
	db_reopen(&d);
	check_v1_data_kept(&d.s);
	CHECK_EQ_STR(qtext(&d.s, "SELECT names FROM certificates WHERE id = 4"),
		     "[\"nas.example.com\"]");
	/* Version 6: an older certificate is an imported one (no ACME state). */
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM certificates WHERE id = 4 AND acme IS NULL"
		       " AND last_error IS NULL AND revoked_at IS NULL"), 1);
	CHECK_EQ_INT(secret_get(&d.s, &kr, "certificate", 4, "key", &val, &len), 0);
	CHECK_EQ_INT(len, 7);
	CHECK(val && !memcmp(val, "PRIVATE", 7));
	secure_free(val, len + 1);
	/* Deleting the certificate drops its secret (trigger from v2). */
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM certificates WHERE id = 4", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM secrets"), 0);
	secret_keyring_free(&kr);
	db_free(&d);
}

/* Data a version-3 hub would have written: both tunnel addresses, a
 * reported version, TCP and HTTPS routes with their options. */
static const char v3_data[] =
	"INSERT INTO users(id, name, role, password_hash, created_at, rev) VALUES"
	" (1, 'admin', 'admin', '$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA', 5, 1);"
	"INSERT INTO agents(id, name, public_key, tunnel_ipv4, tunnel_ipv6, status,"
	" version, last_seen_at, created_at, rev) VALUES"
	" (1, 'nas', 'pk1', '100.96.0.2', 'fd7a::2', 'enrolled', '0.3', 1700000000000, 7, 3),"
	" (2, 'pi', NULL, NULL, NULL, 'pending', NULL, NULL, 8, 4);"
	"INSERT INTO routes(id, host, path_prefix, agent_id, target, strip_prefix,"
	" redirect_https, hsts_max_age, tls_verify, tls_server_name, tcp_listen_port,"
	" created_at, rev) VALUES"
	" (1, 'ssh.example.com', '/', 1, 'tcp://192.168.1.10:22', 0, 0, 0, 1, NULL, 2222, 10, 6),"
	" (2, 'nas.example.com', '/', 1, 'https://192.168.1.10:5001', 0, 1, 31536000, 0,"
	"  'nas.lan', NULL, 11, 7);";

TEST(migrates_version3_with_data)
{
	struct db d;

	db_old(&d, 3);
	CHECK_EQ_INT(migrate_version(&d.s), 3);
	db_upgrade(&d, v3_data);
	CHECK_EQ_STR(qtext(&d.s, "SELECT tunnel_ipv6 FROM agents WHERE id = 1"), "fd7a::2");
	CHECK_EQ_STR(qtext(&d.s, "SELECT version FROM agents WHERE id = 1"), "0.3");
	CHECK_EQ_INT(q(&d.s, "SELECT last_seen_at FROM agents WHERE id = 1"), 1700000000000);
	CHECK_EQ_STR(qtext(&d.s, "SELECT status FROM agents WHERE id = 2"), "pending");
	/* Version 4: every existing agent is a Postern agent, no heartbeat yet. */
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM agents WHERE kind = 'agent'"), 2);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM agents WHERE heartbeat IS NULL"), 2);
	CHECK_EQ_INT(q(&d.s, "SELECT tcp_listen_port FROM routes WHERE id = 1"), 2222);
	CHECK_EQ_STR(qtext(&d.s, "SELECT tls_server_name FROM routes WHERE id = 2"), "nas.lan");
	CHECK_EQ_INT(q(&d.s, "SELECT hsts_max_age FROM routes WHERE id = 2"), 31536000);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM routes r JOIN agents a ON a.id = r.agent_id"), 2);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	db_free(&d);
}

TEST(migrates_version4_with_data)
{
	struct db d;

	db_old(&d, 4);
	CHECK_EQ_INT(migrate_version(&d.s), 4);
	CHECK_EQ_INT(store_exec(&d.s, v3_data, errbuf, sizeof(errbuf)), 0);
	db_upgrade(&d, "INSERT INTO agents(id, name, kind, tunnel_ipv4,"
		" heartbeat, status, created_at, rev) VALUES (3, 'router', 'wireguard',"
		" '100.96.0.3', NULL, 'enrolled', 12, 8);"
		"UPDATE agents SET heartbeat = '{\"targets\":[]}' WHERE id = 1");
	CHECK_EQ_STR(qtext(&d.s, "SELECT kind FROM agents WHERE id = 3"), "wireguard");
	CHECK_EQ_STR(qtext(&d.s, "SELECT heartbeat FROM agents WHERE id = 1"), "{\"targets\":[]}");
	CHECK_EQ_STR(qtext(&d.s, "SELECT tunnel_ipv6 FROM agents WHERE id = 1"), "fd7a::2");
	CHECK_EQ_INT(q(&d.s, "SELECT tcp_listen_port FROM routes WHERE id = 1"), 2222);
	/* Version 5: no endpoint known until the agent's packets arrive. */
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM agents WHERE last_endpoint IS NULL"), 3);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	db_free(&d);
}

/* A version-5 store (an agent's last endpoint, a certificate) keeps both in
 * version 6; the certificate reads as imported (no ACME state). */
TEST(migrates_version5_with_data)
{
	struct db d;

	db_old(&d, 5);
	db_upgrade(&d, "INSERT INTO agents(id, name, last_endpoint, status,"
		" created_at, rev) VALUES (1, 'nas', '192.0.2.7:51820', 'enrolled', 1, 1);"
		"INSERT INTO certificates(id, name, names, issuer, serial, fingerprint,"
		" not_before, not_after, cert_pem, created_at, rev) VALUES (2, 'web',"
		" '[\"web.example.com\"]', 'CN=ca', '02', 'cd', 1, 2, 'PEM', 3, 2);");
	CHECK_EQ_STR(qtext(&d.s, "SELECT last_endpoint FROM agents WHERE id = 1"), "192.0.2.7:51820");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM certificates WHERE id = 2 AND acme IS NULL"
		       " AND last_error IS NULL AND revoked_at IS NULL"), 1);
	/* The new columns take values. */
	CHECK_EQ_INT(store_exec(&d.s, "UPDATE certificates SET acme = '{}', revoked_at = 5,"
				" last_error = 'x'", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT revoked_at FROM certificates WHERE id = 2"), 5);
	db_free(&d);
}

/* A version-6 store keeps its certificates in version 7, which adds the
 * webhook tables: an outbox row goes with its webhook; a version-6 user
 * keeps its row through version 8, with no groups, no e-mail, session
 * epoch 0 and no TOTP. */
TEST(migrates_version6_with_data)
{
	struct db d;

	db_old(&d, 6);
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO certificates(id, name, names, issuer,"
		" serial, fingerprint, not_before, not_after, cert_pem, acme, created_at,"
		" rev) VALUES (2, 'web', '[]', 'CN=ca', '02', 'cd', 1, 2, 'PEM', '{}', 3, 2);",
		errbuf, sizeof(errbuf)), 0);
	db_upgrade(&d, "INSERT INTO users(id, name, role, created_at, rev)"
		" VALUES (1, 'alice', 'viewer', 1, 1);");
	CHECK_EQ_STR(qtext(&d.s, "SELECT acme FROM certificates WHERE id = 2"), "{}");
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO webhooks(id, name, url, created_at, rev)"
		" VALUES (1, 'ops', 'https://example.com/h', 1, 1);"
		"INSERT INTO webhook_outbox(webhook_id, seq, next_at, created_at)"
		" VALUES (1, 1, 0, 0);", errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_STR(qtext(&d.s, "SELECT format || events || enabled FROM webhooks"), "json*1");
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM webhooks", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM webhook_outbox"), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM users WHERE id = 1 AND groups = ''"
		       " AND email IS NULL AND auth_epoch = 0 AND totp = 0 AND totp_last_step = 0"), 1);
	CHECK_EQ_INT(store_exec(&d.s, "UPDATE users SET groups = 'family', auth_epoch = 2",
				NULL, 0), 0);
	CHECK_EQ_STR(qtext(&d.s, "SELECT groups FROM users WHERE id = 1"), "family");
	db_free(&d);
}

/* A version-7 user (webhooks exist) gains the login columns in version 8;
 * its webhook stays. */
TEST(migrates_version7_with_data)
{
	struct db d;

	db_old(&d, 7);
	db_upgrade(&d, "INSERT INTO users(id, name, role, created_at, rev)"
		" VALUES (1, 'bob', 'viewer', 1, 1);"
		"INSERT INTO webhooks(id, name, url, created_at, rev)"
		" VALUES (1, 'ops', 'https://example.com/h', 1, 1);");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM users WHERE id = 1 AND groups = ''"
		       " AND auth_epoch = 0 AND totp = 0"), 1);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM webhooks"), 1);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM user_recovery_codes"), 0);
	db_free(&d);
}

/* The tables whose IDs the audit log names, and the audit prefix of each. */
static const char *const id_tables[][2] = {
	{ "users", "user" }, { "sessions", "session" }, { "api_tokens", "token" },
	{ "agents", "agent" }, { "routes", "route" }, { "certificates", "certificate" },
	{ "webhooks", "webhook" },
};

/* True when a row inserted into `table` now would get an ID above `above`. */
static bool next_id_above(struct store *s, const char *table, int64_t above)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT seq FROM sqlite_sequence WHERE name = '%s'", table);
	return q(s, sql) >= above;
}

/* A version-8 store (before IDs were kept unique) keeps every row, ID and
 * reference through the version-9 rebuild; a deleted highest ID is not
 * handed out again, nor one that only the audit log still names. */
TEST(migrates_version8_with_data)
{
	struct db d;
	char sql[256];

	db_old(&d, 8);
	CHECK_EQ_INT(store_exec(&d.s, v3_data, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(store_exec(&d.s,
		"UPDATE users SET groups = 'family', email = 'a@example.com', totp = 1;"
		"INSERT INTO user_recovery_codes(user_id, hash, created_at) VALUES (1, 'h1', 1);"
		"INSERT INTO sessions(id, user_id, hash, csrf, client_ip, created_at,"
		" last_seen_at, expires_at) VALUES (4, 1, 's4', 'c', '127.0.0.1', 1, 1, 9);"
		"INSERT INTO api_tokens(id, user_id, name, scope, hash, hint, created_at, rev)"
		" VALUES (2, 1, 'ci', 'read', 't2', 'pt_ab', 6, 2);"
		"INSERT INTO certificates(id, name, names, issuer, serial, fingerprint,"
		" not_before, not_after, cert_pem, acme, created_at, rev) VALUES (3, 'web',"
		" '[]', 'CN=ca', '02', 'cd', 1, 2, 'PEM', '{}', 3, 2);"
		"INSERT INTO secrets(owner, owner_id, name, key_id, nonce, ciphertext)"
		" VALUES ('certificate', 3, 'key', 'k', x'00', x'00');"
		"INSERT INTO webhooks(id, name, url, created_at, rev)"
		" VALUES (5, 'ops', 'https://example.com/h', 1, 1);"
		"INSERT INTO webhook_outbox(webhook_id, seq, next_at, created_at)"
		" VALUES (5, 1, 0, 0);"
		/* Route 2 was the highest and is gone; route 7 existed once. */
		"DELETE FROM routes WHERE id = 2;", errbuf, sizeof(errbuf)), 0);
	db_upgrade(&d, "INSERT INTO audit_log(seq, time_ms, actor, source, action, object,"
		" before_json, after_json, prev_hash, hash) VALUES (1, 1, 'user:1', 'cli',"
		" 'route.delete', 'route:7', '', '', x'', x''), (2, 1, 'token:9', 'api',"
		" 'agent.create', 'agent:2', '', '', x'', x'')");
	/* Rows, IDs and values kept. */
	CHECK_EQ_STR(qtext(&d.s, "SELECT email || groups || totp FROM users WHERE id = 1"),
		     "a@example.comfamily1");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM sessions WHERE id = 4 AND user_id = 1"), 1);
	CHECK_EQ_STR(qtext(&d.s, "SELECT hint FROM api_tokens WHERE id = 2"), "pt_ab");
	CHECK_EQ_STR(qtext(&d.s, "SELECT tunnel_ipv6 FROM agents WHERE id = 1"), "fd7a::2");
	CHECK_EQ_INT(q(&d.s, "SELECT tcp_listen_port FROM routes WHERE id = 1"), 2222);
	CHECK_EQ_STR(qtext(&d.s, "SELECT acme FROM certificates WHERE id = 3"), "{}");
	CHECK_EQ_STR(qtext(&d.s, "SELECT url FROM webhooks WHERE id = 5"), "https://example.com/h");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* Constraints, indexes and triggers came back with the tables. */
	CHECK(store_exec(&d.s, "INSERT INTO routes(host, target, tcp_listen_port, created_at, rev)"
			 " VALUES ('x.test', 'tcp://a:1', 2222, 1, 1)", NULL, 0) < 0);
	CHECK(store_exec(&d.s, "DELETE FROM agents WHERE id = 1", NULL, 0) < 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM sqlite_schema WHERE name IN ('routes_agent',"
		       " 'routes_tcp_listen_port', 'api_tokens_user', 'sessions_user',"
		       " 'certificates_drop_secrets')"), 5);
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM certificates WHERE id = 3", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM secrets"), 0);
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM users WHERE id = 1", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM sessions") + q(&d.s, "SELECT count(*) FROM "
		     "api_tokens") + q(&d.s, "SELECT count(*) FROM user_recovery_codes"), 0);
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM webhooks", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM webhook_outbox"), 0);
	/* Counters: past the rows, and past what the audit log named. */
	CHECK(next_id_above(&d.s, "routes", 7));
	CHECK(next_id_above(&d.s, "agents", 2));
	CHECK(next_id_above(&d.s, "api_tokens", 9));
	CHECK(next_id_above(&d.s, "webhooks", 5));
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO routes(host, target, created_at, rev)"
				" VALUES ('new.test', 'http://a:1', 1, 1)", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT max(id) FROM routes"), 8);
	for (size_t i = 0; i < ARRAY_SIZE(id_tables); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_sequence WHERE name = '%s'",
			 id_tables[i][0]);
		CHECK_EQ_INT(q(&d.s, sql), 1);
	}
	db_free(&d);
}

/* In a store made at this version, a deleted highest ID stays unused in
 * every table the audit log names. */
TEST(ids_are_never_reused)
{
	struct db d;
	char sql[512];

	db_new(&d);
	CHECK_EQ_INT(store_exec(&d.s,
		"INSERT INTO users(name, role, created_at, rev) VALUES ('u1', 'viewer', 1, 1),"
		" ('u2', 'viewer', 1, 1);"
		"INSERT INTO sessions(user_id, hash, csrf, client_ip, created_at, last_seen_at,"
		" expires_at) VALUES (1, 's1', 'c', 'i', 1, 1, 1), (1, 's2', 'c', 'i', 1, 1, 1);"
		"INSERT INTO api_tokens(user_id, name, scope, hash, hint, created_at, rev)"
		" VALUES (1, 'a', 'read', 't1', 'h', 1, 1), (1, 'b', 'read', 't2', 'h', 1, 1);"
		"INSERT INTO agents(name, created_at, rev) VALUES ('a1', 1, 1), ('a2', 1, 1);"
		"INSERT INTO routes(host, target, created_at, rev) VALUES"
		" ('r1.test', 'http://a:1', 1, 1), ('r2.test', 'http://a:1', 1, 1);"
		"INSERT INTO certificates(name, names, issuer, serial, fingerprint, not_before,"
		" not_after, cert_pem, created_at, rev) VALUES ('c1', '[]', 'i', 's', 'f', 1, 2,"
		" 'P', 1, 1), ('c2', '[]', 'i', 's', 'f', 1, 2, 'P', 1, 1);"
		"INSERT INTO webhooks(name, url, created_at, rev) VALUES ('w1', 'https://a/', 1, 1),"
		" ('w2', 'https://a/', 1, 1);", errbuf, sizeof(errbuf)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(id_tables); i++) {
		const char *t = id_tables[i][0];
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = 2", t);
		CHECK_EQ_INT(store_exec(&d.s, sql, errbuf, sizeof(errbuf)), 0);
		snprintf(sql, sizeof(sql), "SELECT seq FROM sqlite_sequence WHERE name = '%s'", t);
		CHECK_EQ_INT(q(&d.s, sql), 2);
	}
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO routes(host, target, created_at, rev)"
				" VALUES ('r3.test', 'http://a:1', 1, 1)", NULL, 0), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT max(id) FROM routes"), 3);
	db_free(&d);
}

/* A version-9 route keeps its row and gains route tokens and share
 * links, which go with it when it is deleted. */
TEST(migrates_version9_with_data)
{
	struct db d;

	db_old(&d, 9);
	db_upgrade(&d, "INSERT INTO routes(id, host, target, created_at, rev)"
		" VALUES (1, 'a.example', 'http://127.0.0.1:1', 1, 1);");
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO route_tokens(route_id, name, hash, hint,"
		" created_by, created_at, rev) VALUES (1, 'phone', 'h1', 'prt_x', 'admin', 1, 2);"
		"INSERT INTO share_links(route_id, name, hash, hint, nonce, expires_at,"
		" created_by, created_at, rev) VALUES (1, 'l', 'h2', 'x', 7, 9, 'admin', 1, 3);",
		errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM routes"), 1);
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM routes WHERE id = 1", errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM route_tokens"), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM share_links"), 0);
	db_free(&d);
}

/* A version-10 user keeps its row and gains the passkey flag (off) and
 * passkeys, which go with the user when it is deleted; a credential ID
 * binds to one user only. */
TEST(migrates_version10_with_data)
{
	struct db d;

	db_old(&d, 10);
	db_upgrade(&d, "INSERT INTO users(id, name, role, created_at, rev)"
		" VALUES (1, 'ann', 'viewer', 1, 1), (2, 'bob', 'viewer', 1, 1);");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM users WHERE require_passkey = 0"), 2);
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO passkeys(user_id, cred_id, public_key, alg,"
		" name, created_at, rev) VALUES (1, x'01', x'02', -8, 'key', 1, 1);", errbuf,
		sizeof(errbuf)), 0);
	CHECK(store_exec(&d.s, "INSERT INTO passkeys(user_id, cred_id, public_key, alg, name,"
			 " created_at, rev) VALUES (2, x'01', x'02', -7, 'key', 1, 1)", NULL, 0) < 0);
	CHECK(store_exec(&d.s, "INSERT INTO passkeys(user_id, cred_id, public_key, alg, name,"
			 " created_at, rev) VALUES (2, x'03', x'02', 1, 'key', 1, 1)", NULL, 0) < 0);
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM users WHERE id = 1", errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM passkeys"), 0);
	db_free(&d);
}

/* A version-11 user keeps its row; a session logged out is refused until
 * its expiry, once (user, expiry) is a key, and goes with its user. */
TEST(migrates_version11_with_data)
{
	struct db d;

	db_old(&d, 11);
	db_upgrade(&d, "INSERT INTO users(id, name, role, created_at, rev)"
		" VALUES (1, 'ann', 'viewer', 1, 1);");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM session_revocations"), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM users"), 1);
	db_free(&d);
}

/* v12 named a logged-out session by (user, expiry); v13 by (user, id).
 * The old rows name sessions no token can carry any more: they go, the
 * users stay, and the new table holds its keys. */
TEST(migrates_version12_with_data)
{
	struct db d;

	db_old(&d, 12);
	db_upgrade(&d, "INSERT INTO users(id, name, role, created_at, rev)"
		" VALUES (1, 'ann', 'viewer', 1, 1);"
		"INSERT INTO session_revocations(user_id, expires_at) VALUES (1, 100);");
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM users"), 1);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM session_revocations"), 0);
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO session_revocations(user_id, session_id,"
		" expires_at) VALUES (1, 7, 100), (1, 8, 100);", errbuf, sizeof(errbuf)), 0);
	CHECK(store_exec(&d.s, "INSERT INTO session_revocations(user_id, session_id, expires_at)"
			 " VALUES (1, 7, 200)", NULL, 0) < 0);	/* named twice */
	CHECK(store_exec(&d.s, "INSERT INTO session_revocations(user_id, session_id, expires_at)"
			 " VALUES (1, 0, 200)", NULL, 0) < 0);	/* not a session's id */
	CHECK(store_exec(&d.s, "INSERT INTO session_revocations(user_id, session_id, expires_at)"
			 " VALUES (9, 1, 100)", NULL, 0) < 0);	/* no such user */
	CHECK_EQ_INT(store_exec(&d.s, "DELETE FROM users WHERE id = 1", errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM session_revocations"), 0);
	db_free(&d);
}

TEST(failed_migration_rolls_back)
{
	struct db d;

	db_old(&d, 1);
	/* Something in the way of migration 2's CREATE TABLE. */
	CHECK_EQ_INT(store_exec(&d.s, "CREATE TABLE certificates(x)", NULL, 0), 0);
	store_close(&d.s);
	CHECK_EQ_INT(store_open(&d.s, d.path, 0, errbuf, sizeof(errbuf)), -1);
	CHECK(strstr(errbuf, "migration 2") != NULL);
	CHECK_EQ_INT(store_open(&d.s, d.path, STORE_F_NO_MIGRATE, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(migrate_version(&d.s), 1);
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM sqlite_schema WHERE name = 'secrets'"), 0);
	db_free(&d);
}

TEST(secrets_are_bound_to_their_row)
{
	struct secret_keyring kr;
	struct db d;
	uint8_t *val = NULL;
	size_t len;

	db_new(&d);
	CHECK_EQ_INT(secret_keyring_load(&kr, fixture_path(d.dir, "k"), true,
					 errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(secret_put(&d.s, &kr, "certificate", 1, "key", "one", 3), 0);
	CHECK_EQ_INT(secret_put(&d.s, &kr, "certificate", 2, "key", "two", 3), 0);
	/* The plaintext is not in the database. */
	CHECK_EQ_INT(q(&d.s, "SELECT count(*) FROM secrets WHERE instr(ciphertext, 'one')"), 0);
	CHECK_EQ_INT(secret_get(&d.s, &kr, "certificate", 1, "key", &val, &len), 0);
	CHECK(val && len == 3 && !memcmp(val, "one", 3));
	secure_free(val, len + 1);
	/* Copy row 2's ciphertext onto row 1: it must not open as row 1's. */
	CHECK_EQ_INT(store_exec(&d.s, "UPDATE secrets SET (nonce, ciphertext) = "
		"(SELECT nonce, ciphertext FROM secrets WHERE owner_id = 2) "
		"WHERE owner_id = 1", NULL, 0), 0);
	CHECK_EQ_INT(secret_get(&d.s, &kr, "certificate", 1, "key", &val, &len), -EBADMSG);
	/* Flip a bit of row 2. */
	CHECK_EQ_INT(store_exec(&d.s, "UPDATE secrets SET ciphertext = "
		"x'00' || substr(ciphertext, 2) WHERE owner_id = 2", NULL, 0), 0);
	CHECK_EQ_INT(secret_get(&d.s, &kr, "certificate", 2, "key", &val, &len), -EBADMSG);
	CHECK_EQ_INT(secret_get(&d.s, &kr, "certificate", 3, "key", &val, &len), -ENOENT);
	secret_keyring_free(&kr);
	db_free(&d);
}

TEST(secret_key_file_must_be_private)
{
	const char *dir = fixture_tmpdir();
	const char *key = fixture_path(dir, "secret.key");
	struct secret_keyring kr;
	struct stat sb;

	CHECK_EQ_INT(secret_keyring_load(&kr, key, true, errbuf, sizeof(errbuf)), 0);
	secret_keyring_free(&kr);
	CHECK_EQ_INT(stat(key, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	chmod(key, 0644);
	CHECK_EQ_INT(secret_keyring_load(&kr, key, true, errbuf, sizeof(errbuf)), -1);
	CHECK(strstr(errbuf, "0600") != NULL);
	chmod(key, 0600);
	CHECK_EQ_INT(secret_keyring_load(&kr, fixture_path(dir, "none"), false,
					 errbuf, sizeof(errbuf)), -1);
	fixture_rmdir(dir);
}

static void put_three(struct store *s, struct secret_keyring *kr)
{
	CHECK_EQ_INT(secret_put(s, kr, "certificate", 1, "key", "k1", 2), 0);
	CHECK_EQ_INT(secret_put(s, kr, "setting", 0, "acme.dns_api_token", "tok", 3), 0);
	CHECK_EQ_INT(secret_put(s, kr, "webhook", 9, "secret", "whsec", 5), 0);
}

static bool opens_as(struct store *s, struct secret_keyring *kr, const char *owner,
		     int64_t id, const char *name, const char *want)
{
	uint8_t *val = NULL;
	size_t len = 0;
	bool ok = secret_get(s, kr, owner, id, name, &val, &len) == 0 &&
		  len == strlen(want) && !memcmp(val, want, len);

	if (val)
		secure_free(val, len + 1);
	return ok;
}

TEST(rotation_reseals_everything)
{
	const char *key;
	struct secret_keyring kr, old;
	struct db d;
	char old_id[SECRET_KEY_ID_LEN + 1];

	db_new(&d);
	key = fixture_path(d.dir, "secret.key");
	CHECK_EQ_INT(secret_keyring_load(&kr, key, true, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(secret_keyring_load(&old, key, false, errbuf, sizeof(errbuf)), 0);
	memcpy(old_id, kr.cur.id, sizeof(old_id));
	put_three(&d.s, &kr);
	CHECK_EQ_INT(secret_rotate_prepare(&kr, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(store_begin(&d.s), 0);
	CHECK_EQ_INT(secret_rotate_reseal(&kr, &d.s), 3);
	CHECK_EQ_INT(store_commit(&d.s), 0);
	CHECK_EQ_INT(secret_rotate_finish(&kr, errbuf, sizeof(errbuf)), 0);
	CHECK(strcmp(kr.cur.id, old_id) != 0);
	CHECK(opens_as(&d.s, &kr, "certificate", 1, "key", "k1"));
	CHECK(opens_as(&d.s, &kr, "webhook", 9, "secret", "whsec"));
	/* The old key opens nothing any more; the file holds the new key. */
	CHECK(!opens_as(&d.s, &old, "certificate", 1, "key", "k1"));
	CHECK_EQ_INT(access(fixture_path(d.dir, "secret.key.next"), F_OK), -1);
	secret_keyring_free(&old);
	CHECK_EQ_INT(secret_keyring_load(&old, key, false, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_STR(old.cur.id, kr.cur.id);
	CHECK(opens_as(&d.s, &old, "setting", 0, "acme.dns_api_token", "tok"));
	secret_keyring_free(&old);
	secret_keyring_free(&kr);
	db_free(&d);
}

/* Stages a rotation of three secrets and "crashes" after the reseal,
 * committed or not; returns the ids of the old and the staged key. */
static void rotate_then_crash(struct store *s, const char *key, bool commit,
			      char *old_id, char *new_id)
{
	struct secret_keyring kr;

	CHECK_EQ_INT(secret_keyring_load(&kr, key, true, errbuf, sizeof(errbuf)), 0);
	put_three(s, &kr);
	CHECK_EQ_INT(secret_rotate_prepare(&kr, errbuf, sizeof(errbuf)), 0);
	memcpy(old_id, kr.cur.id, SECRET_KEY_ID_LEN + 1);
	memcpy(new_id, kr.next.id, SECRET_KEY_ID_LEN + 1);
	CHECK_EQ_INT(store_begin(s), 0);
	CHECK_EQ_INT(secret_rotate_reseal(&kr, s), 3);
	if (commit)
		CHECK_EQ_INT(store_commit(s), 0);
	else
		store_rollback(s);
	secret_keyring_free(&kr);
}

/* A crash after the commit but before the rename: the next start finds
 * the rows under the .next key and completes the rotation; a crash before
 * the commit leaves them under the old key and discards the staged one. */
static void check_rotation_recovery(bool committed)
{
	const char *key;
	char old_id[SECRET_KEY_ID_LEN + 1], new_id[SECRET_KEY_ID_LEN + 1];
	struct secret_keyring again;
	struct db d;

	db_new(&d);
	key = fixture_path(d.dir, "secret.key");
	rotate_then_crash(&d.s, key, committed, old_id, new_id);
	CHECK_EQ_INT(secret_keyring_load(&again, key, false, errbuf, sizeof(errbuf)), 0);
	CHECK(again.next.set);
	/* Both keys loaded: the rows open even before recovery. */
	CHECK(opens_as(&d.s, &again, "certificate", 1, "key", "k1"));
	CHECK_EQ_INT(secret_keyring_recover(&again, &d.s, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_STR(again.cur.id, committed ? new_id : old_id);
	CHECK(!again.next.set);
	CHECK_EQ_INT(access(fixture_path(d.dir, "secret.key.next"), F_OK), -1);
	CHECK(opens_as(&d.s, &again, "webhook", 9, "secret", "whsec"));
	secret_keyring_free(&again);
	db_free(&d);
}

TEST(rotation_interrupted_after_commit_completes)
{
	check_rotation_recovery(true);
}

TEST(rotation_interrupted_before_commit_is_undone)
{
	check_rotation_recovery(false);
}

TEST(backup_is_a_consistent_copy)
{
	const char *copy;
	struct db d;
	struct store c;
	struct stat sb;

	db_new(&d);
	copy = fixture_path(d.dir, "copy.db");
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO settings VALUES ('a', '1', 1)", NULL, 0), 0);
	/* A transaction left open by the writer is not in the copy. */
	CHECK_EQ_INT(store_begin(&d.s), 0);
	CHECK_EQ_INT(store_exec(&d.s, "INSERT INTO settings VALUES ('b', '2', 2)", NULL, 0), 0);
	CHECK_EQ_INT(store_backup(d.path, copy, errbuf, sizeof(errbuf)), 0);
	store_rollback(&d.s);
	CHECK_EQ_INT(stat(copy, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	CHECK_EQ_INT(access(fixture_path(d.dir, "copy.db-wal"), F_OK), -1);
	CHECK_EQ_INT(store_open(&c, copy, 0, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(q(&c, "SELECT count(*) FROM settings"), 1);
	CHECK_EQ_STR(qtext(&c, "PRAGMA integrity_check"), "ok");
	store_close(&c);
	/* An existing file is never overwritten. */
	CHECK_EQ_INT(store_backup(d.path, copy, errbuf, sizeof(errbuf)), -1);
	CHECK(strstr(errbuf, "exists") != NULL);
	db_free(&d);
}

TEST(keyfile_replaces_atomically)
{
	const char *dir = fixture_tmpdir();
	const char *f = fixture_path(dir, "f");
	char buf[16];

	CHECK_EQ_INT(keyfile_write(f, "old", 3, 0600, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(keyfile_write(f, "newer", 5, 0600, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(keyfile_read(f, buf, sizeof(buf), errbuf, sizeof(errbuf)), 5);
	CHECK(!memcmp(buf, "newer", 5));
	CHECK_EQ_INT(access(fixture_path(dir, "f.tmp"), F_OK), -1);
	CHECK_EQ_INT(keyfile_read(f, buf, 3, errbuf, sizeof(errbuf)), -1);
	CHECK_EQ_INT(keyfile_read(fixture_path(dir, "g"), buf, 3, errbuf, sizeof(errbuf)),
		     -ENOENT);
	fixture_rmdir(dir);
}


struct cert_seen {
	int n;
	char name[64];
	size_t n_names;
	char first[64], challenge[32];
};

static void cert_seen_acme(void *arg, const char *name, const char *const *names,
			   size_t n, const struct store_cert_acme *o)
{
	struct cert_seen *c = arg;

	c->n++;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->n_names = n;
	snprintf(c->first, sizeof(c->first), "%s", names[0]);
	snprintf(c->challenge, sizeof(c->challenge), "%s",
		 o->challenge ? o->challenge : "");
}

static void cert_seen_row(void *arg, int64_t id, const char *name, const char *chain)
{
	struct cert_seen *c = arg;

	(void)id;
	(void)chain;
	c->n++;
	snprintf(c->name, sizeof(c->name), "%s", name);
}

/* store/cert.c: the certificate rows behind the API and the hub. */
TEST(cert_rows)
{
	struct db d;
	struct store_cert_row acme = {
		.name = "app", .source = "acme", .names = "[\"app.test\",\"www.test\"]",
		.issuer = "CA", .serial = "01", .fingerprint = "ff",
		.not_before = 1, .not_after = INT64_MAX / 2, .chain = "PEM-A",
		.acme = "{\"challenge\":\"http-01\"}",
	};
	struct store_cert_row imp = acme;
	struct cert_seen seen = { 0 };
	int64_t id, id2;
	char *pem;

	db_new(&d);
	imp.name = "imported";
	imp.source = "manual";
	imp.names = "[\"*.wild.test\"]";
	imp.chain = "PEM-I";
	imp.serial = "02";
	imp.fingerprint = "ee";
	imp.acme = NULL;
	CHECK_EQ_INT(store_cert_id(&d.s, "app"), 0);
	id = store_cert_write(&d.s, 0, 1, &acme);
	CHECK(id > 0);
	id2 = store_cert_write(&d.s, 0, 2, &imp);
	CHECK(id2 > id);
	CHECK_EQ_INT(store_cert_id(&d.s, "app"), id);
	pem = store_cert_pem(&d.s, "app");
	CHECK(pem && !strcmp(pem, "PEM-A"));
	free(pem);
	CHECK_EQ_INT(store_cert_each_acme(&d.s, cert_seen_acme, &seen), 0);
	CHECK_EQ_INT(seen.n, 1);
	CHECK_EQ_STR(seen.name, "app");
	CHECK_EQ_INT((int)seen.n_names, 2);
	CHECK_EQ_STR(seen.first, "app.test");
	CHECK_EQ_STR(seen.challenge, "http-01");
	/* Only imported certificates count for covers; a wildcard one label. */
	CHECK(store_cert_covers(&d.s, "a.wild.test", store_now_ms()));
	CHECK(!store_cert_covers(&d.s, "wild.test", store_now_ms()));
	CHECK(!store_cert_covers(&d.s, "a.b.wild.test", store_now_ms()));
	CHECK(!store_cert_covers(&d.s, "app.test", store_now_ms()));
	CHECK_EQ_INT(store_cert_set_error(&d.s, id, "order failed"), 0);
	CHECK_EQ_INT(store_query_int(&d.s, "SELECT count(*) FROM certificates"
				     " WHERE last_error = 'order failed'", -1), 1);
	CHECK_EQ_INT(store_cert_set_revoked(&d.s, id, 5, true, 1234), 0);
	CHECK(store_cert_pem(&d.s, "app") == NULL);
	memset(&seen, 0, sizeof(seen));
	CHECK_EQ_INT(store_cert_each_acme(&d.s, cert_seen_acme, &seen), 0);
	CHECK_EQ_INT(seen.n, 0);
	CHECK_EQ_INT(store_cert_set_revoked(&d.s, id, 6, false, 0), 0);
	CHECK_EQ_INT(store_query_int(&d.s, "SELECT rev FROM certificates WHERE name = 'app'"
				     " AND revoked_at IS NULL AND last_error IS NULL", -1), 6);
	memset(&seen, 0, sizeof(seen));
	CHECK_EQ_INT(store_cert_each(&d.s, cert_seen_row, &seen), 0);
	CHECK_EQ_INT(seen.n, 2);
	CHECK_EQ_STR(seen.name, "imported");
	db_free(&d);
}

int main(void)
{
	log_set_level(LOG_ERR);
	RUN(open_sets_up_a_new_store);
	RUN(open_refuses_a_newer_schema);
	RUN(migrates_version1_with_data);
	RUN(migrates_version2_with_data_and_secrets);
	RUN(migrates_version3_with_data);
	RUN(migrates_version4_with_data);
	RUN(migrates_version5_with_data);
	RUN(migrates_version6_with_data);
	RUN(migrates_version7_with_data);
	RUN(migrates_version8_with_data);
	RUN(ids_are_never_reused);
	RUN(migrates_version9_with_data);
	RUN(migrates_version10_with_data);
	RUN(migrates_version11_with_data);
	RUN(migrates_version12_with_data);
	RUN(failed_migration_rolls_back);
	RUN(secrets_are_bound_to_their_row);
	RUN(secret_key_file_must_be_private);
	RUN(rotation_reseals_everything);
	RUN(rotation_interrupted_after_commit_completes);
	RUN(rotation_interrupted_before_commit_is_undone);
	RUN(backup_is_a_consistent_copy);
	RUN(keyfile_replaces_atomically);
	RUN(cert_rows);
	return unit_done();
}
