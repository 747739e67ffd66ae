/* test_audit.c - the audit chain: encoding, checkpoints, and every kind of
 * tampering verification must catch (and what it honestly cannot). */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "fixture.h"

#include "audit/audit.h"
#include "audit/audit_verify.h"
#include "core/enc.h"
#include "core/log.h"
#include "store/store.h"

static char errbuf[512];

struct env {
	const char *dir;
	char db[512], key[512], pub[512], head[512];
	struct store s;
	struct audit a;
	struct audit_key pubkey;
};

static void env_open(struct env *v)
{
	if (!v->dir) {
		v->dir = fixture_tmpdir();
		snprintf(v->db, sizeof(v->db), "%s/postern.db", v->dir);
		snprintf(v->key, sizeof(v->key), "%s/audit.key", v->dir);
		snprintf(v->pub, sizeof(v->pub), "%s/audit.key.pub", v->dir);
		snprintf(v->head, sizeof(v->head), "%s/audit.head", v->dir);
	}
	CHECK_EQ_INT(store_open(&v->s, v->db, 0, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(audit_open(&v->a, &v->s, v->key, v->head, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(audit_key_load_public(&v->pubkey, v->pub, errbuf, sizeof(errbuf)), 0);
}

static void env_close(struct env *v)
{
	audit_close(&v->a);
	audit_key_free(&v->pubkey);
	store_close(&v->s);
}

static void env_free(struct env *v)
{
	env_close(v);
	fixture_rmdir(v->dir);
}

/* Appends n entries the way the API does (checkpoint after each commit). */
static void add(struct env *v, int n)
{
	char obj[32], after[64];

	for (int i = 0; i < n; i++) {
		int64_t seq = audit_next_seq(&v->a);
		snprintf(obj, sizeof(obj), "route:%lld", (long long)seq);
		snprintf(after, sizeof(after), "{\"host\":\"h%lld.example\"}", (long long)seq);
		struct audit_event ev = { "user:admin", "192.0.2.7", "route.create",
					  obj, "", after };
		CHECK(audit_record(&v->a, &ev) > 0);
		CHECK(audit_checkpoint(&v->a, false) >= 0);
	}
}

/* Opens a fresh environment and appends n entries to its log. */
static void env_start(struct env *v, int n)
{
	env_open(v);
	add(v, n);
}

static struct audit_verify_result verify(struct env *v)
{
	struct audit_verify_result r;

	CHECK_EQ_INT(audit_verify(&v->s, &v->pubkey, v->head, &r), 0);
	return r;
}

/* Runs SQL as an attacker with the sqlite3 tool would: triggers dropped. */
static void tamper(struct env *v, const char *sql)
{
	CHECK_EQ_INT(store_exec(&v->s,
		"DROP TRIGGER IF EXISTS audit_log_no_update;"
		"DROP TRIGGER IF EXISTS audit_log_no_delete;"
		"DROP TRIGGER IF EXISTS audit_checkpoints_no_update;"
		"DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;",
		errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(store_exec(&v->s, sql, errbuf, sizeof(errbuf)), 0);
}

/* Verifies the log and checks that verification fails, naming entry `seq`
 * and saying `text`; returns the result for further checks. */
static struct audit_verify_result verify_bad(struct env *v, uint64_t seq, const char *text)
{
	struct audit_verify_result r = verify(v);

	CHECK(!r.ok);
	CHECK_EQ_U64(r.bad_seq, seq);
	if (!strstr(r.message, text))
		UNIT_FAIL("message \"%s\" lacks \"%s\"", r.message, text);
	return r;
}

TEST(entry_hash_matches_the_documented_encoding)
{
	/* Computed independently (Python hashlib) from the encoding in
	 * docs/control-plane.md. */
	struct audit_entry e = { .seq = 1, .time_ms = 1700000000123,
		.ev = { "user:admin", "192.0.2.7", "route.create", "route:1", "",
			"{\"host\":\"a.example\"}" } };
	uint8_t h[AUDIT_HASH_LEN];
	char hex[HEX_LEN(AUDIT_HASH_LEN)];

	audit_entry_hash(&e, h);
	enc_hex_encode(hex, h, sizeof(h));
	CHECK_EQ_STR(hex, "9837fbc21db064793e9c6dad2d19eccafe539cf50c5f3d847d456e7cd746a2ae");
}

/* The checkpoint signature against a vector computed independently
 * (Python's cryptography, Ed25519 with the seed 00 01 .. 1f) from the
 * message in docs/control-plane.md: the tag, seq 17, SHA-256("postern")
 * as the head, time_ms 1700000000123. Ed25519 is deterministic, so the
 * bytes must match exactly. */
TEST(checkpoint_signature_matches_an_independent_vector)
{
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\n"
		"MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n"
		"-----END PRIVATE KEY-----\n";
	struct audit_checkpoint c = { .seq = 17, .time_ms = 1700000000123 };
	const char *dir = fixture_tmpdir();
	const char *path = fixture_path(dir, "audit.key");
	struct audit_key k;
	char hex[HEX_LEN(AUDIT_SIG_LEN)];
	FILE *f = fopen(path, "w");

	CHECK(f && fputs(pem, f) >= 0 && fclose(f) == 0);
	CHECK_EQ_INT(chmod(path, 0600), 0);	/* a key file must be private */
	CHECK_EQ_INT(enc_hex_decode(c.head, sizeof(c.head),
		"b696ec19b1e95356f45db8ec4736266d08cca80b6e9bc9db6dc4155b070f7376", 64),
		0);
	CHECK_EQ_INT(audit_key_load_private(&k, path, false, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(audit_checkpoint_sign(&c, &k), 0);
	enc_hex_encode(hex, c.sig, sizeof(c.sig));
	CHECK_EQ_STR(hex, "c4f1e90b10b826474f7c6cf2094cdb80344937e58c76a864158e5643a5eda4e4"
			  "de5744bce0554fe7850fd0dfef6dbef31d059254753403f18f5b937ebe874c05");
	CHECK_EQ_STR(c.key_id, "56475aa75463474c");
	CHECK(audit_checkpoint_valid(&c, &k));
	c.time_ms++;
	CHECK(!audit_checkpoint_valid(&c, &k));
	audit_key_free(&k);
	fixture_rmdir(dir);
}

/* A field longer than AUDIT_FIELD_MAX is cut to 4096 bytes at most, on a
 * UTF-8 boundary: a two-byte character across byte 4096 goes whole
 * (4095 kept), one ending at byte 4096 stays (4096 kept). The stored
 * bytes are what was hashed: the chain still verifies. */
TEST(long_field_is_cut_on_a_utf8_boundary)
{
	struct env v = { 0 };
	static char across[5000], ends[5000];

	memset(across, 'a', sizeof(across) - 1);
	memcpy(across + 4095, "\xc3\xa9", 2);	/* bytes 4096 and 4097 (1-based) */
	memset(ends, 'b', sizeof(ends) - 1);
	memcpy(ends + 4094, "\xc3\xa9", 2);	/* bytes 4095 and 4096 */
	env_open(&v);
	struct audit_event e1 = { "user:admin", "192.0.2.7", "route.create", "route:1",
				  "", across };
	struct audit_event e2 = { "user:admin", "192.0.2.7", "route.create", "route:2",
				  "", ends };
	CHECK(audit_record(&v.a, &e1) > 0);
	CHECK(audit_record(&v.a, &e2) > 0);
	CHECK_EQ_INT(store_query_int(&v.s, "SELECT length(CAST(after_json AS BLOB)) "
				     "FROM audit_log WHERE object = 'route:1'", -1), 4095);
	CHECK_EQ_INT(store_query_int(&v.s, "SELECT hex(substr(CAST(after_json AS BLOB), 4095)) "
				     "= '61' FROM audit_log WHERE object = 'route:1'", -1), 1);
	CHECK_EQ_INT(store_query_int(&v.s, "SELECT length(CAST(after_json AS BLOB)) "
				     "FROM audit_log WHERE object = 'route:2'", -1), 4096);
	CHECK_EQ_INT(store_query_int(&v.s, "SELECT hex(substr(CAST(after_json AS BLOB), 4095)) "
				     "= 'C3A9' FROM audit_log WHERE object = 'route:2'", -1), 1);
	CHECK(audit_checkpoint(&v.a, true) >= 0);
	CHECK(verify(&v).ok);
	env_free(&v);
}

TEST(clean_log_verifies)
{
	struct env v = { 0 };
	struct audit_verify_result r;
	struct stat sb;

	env_start(&v, 40);
	r = verify(&v);
	CHECK(r.ok);
	CHECK_EQ_U64(r.entries, 40);
	/* Genesis, then every 16 entries. */
	CHECK_EQ_U64(r.checkpoints, 3);
	CHECK_EQ_U64(r.signed_seq, 32);
	CHECK(strstr(r.message, "8 newer entries not signed yet") != NULL);
	CHECK_EQ_INT(stat(v.key, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	/* Closing cleanly signs the tail. */
	CHECK_EQ_INT(audit_checkpoint(&v.a, true), 1);
	r = verify(&v);
	CHECK_EQ_U64(r.signed_seq, 40);
	env_free(&v);
}

/* Checkpoints come every N entries or, with fewer pending, once the
 * interval has passed since the last one (the hub's tick asks). */
TEST(checkpoint_after_the_interval)
{
	struct env v = { 0 };

	env_open(&v);
	v.a.every_entries = 1000;
	add(&v, 3);
	CHECK_EQ_U64(verify(&v).signed_seq, 0);	/* only the genesis */
	CHECK_EQ_INT(audit_checkpoint(&v.a, false), 0);
	v.a.every_ms = 0;			/* the interval is over */
	CHECK_EQ_INT(audit_checkpoint(&v.a, false), 1);
	CHECK_EQ_U64(verify(&v).signed_seq, 3);
	/* Nothing pending: no new checkpoint however long it has been. */
	CHECK_EQ_INT(audit_checkpoint(&v.a, false), 0);
	env_free(&v);
}

TEST(triggers_refuse_updates_and_deletes)
{
	struct env v = { 0 };

	env_start(&v, 2);
	CHECK(store_exec(&v.s, "UPDATE audit_log SET actor = 'x'", NULL, 0) < 0);
	CHECK(store_exec(&v.s, "DELETE FROM audit_log", NULL, 0) < 0);
	CHECK(store_exec(&v.s, "DELETE FROM audit_checkpoints", NULL, 0) < 0);
	CHECK(verify(&v).ok);
	env_free(&v);
}

/* A log of `entries` entries tampered with by `sql` (an attacker with the
 * sqlite3 tool) that verification must refuse, naming `bad_seq` and saying
 * `text` (and `also`, where set) in its message. */
struct tamper_case {
	const char *name;
	int entries;
	uint64_t bad_seq;
	const char *text, *also, *sql;
};

static const struct tamper_case tamper_cases[] = {
	{ "edited_entry_is_named", 20, 5, "entry 5: its content does not match its hash", NULL,
	  "UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 5" },
	/* With several places changed, the first in log order is named. */
	{ "first_bad_entry_is_named", 20, 6, "entry 6: its content does not match its hash", NULL,
	  "UPDATE audit_log SET action = 'route.delete' WHERE seq = 12;"
	  "DELETE FROM audit_log WHERE seq = 15;"
	  "UPDATE audit_log SET object = 'route:0' WHERE seq = 6" },
	{ "deleted_entry_is_named", 20, 7, "entry 7 is missing", NULL,
	  "DELETE FROM audit_log WHERE seq = 7" },
	{ "reordered_entries_are_named", 20, 10, "entry 10", NULL,
	  "UPDATE audit_log SET seq = -1 WHERE seq = 10;"
	  "UPDATE audit_log SET seq = 10 WHERE seq = 11;"
	  "UPDATE audit_log SET seq = 11 WHERE seq = -1;" },
	/* Make room at 12 and put a forged entry there, linked to entry 11. */
	{ "inserted_entry_is_named", 20, 12, "entry 12", NULL,
	  "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 12;"
	  "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000;"
	  "INSERT INTO audit_log SELECT 12, time_ms, 'user:mallory', source,"
	  " 'route.delete', object, before_json, after_json, hash,"
	  " randomblob(32) FROM audit_log WHERE seq = 11;" },
	/* Delete entries 30.. but leave the checkpoint at 32. */
	{ "truncated_tail_is_caught_by_the_checkpoints", 40, 30,
	  "entry 30 onwards was deleted", NULL,
	  "DELETE FROM audit_log WHERE seq >= 30" },
	{ "truncated_tail_with_its_checkpoints_is_caught_by_the_head", 40, 30,
	  "head record", "covers entries up to 32",
	  "DELETE FROM audit_log WHERE seq >= 30;"
	  "DELETE FROM audit_checkpoints WHERE seq >= 30;" },
	{ "forged_checkpoint_is_caught", 20, 16, "bad signature", NULL,
	  "UPDATE audit_checkpoints SET time_ms = time_ms + 1 WHERE seq = 16" },
};

static void check_tamper_case(const struct tamper_case *c)
{
	struct env v = { 0 };
	struct audit_verify_result r;

	env_start(&v, c->entries);
	tamper(&v, c->sql);
	r = verify_bad(&v, c->bad_seq, c->text);
	if (c->also)
		CHECK(strstr(r.message, c->also) != NULL);
	env_free(&v);
}

/* Rewrites entry `seq` and recomputes every hash after it, as an attacker
 * who knows the encoding (but not the signing key) would. */
static void rewrite_and_rehash(struct env *v, uint64_t from)
{
	sqlite3_stmt *st = store_prepare(&v->s, "SELECT " AUDIT_ENTRY_COLUMNS
					 " FROM audit_log ORDER BY seq");
	uint8_t prev[AUDIT_HASH_LEN] = { 0 };
	struct audit_entry e;
	char sql[512], hex[HEX_LEN(32)], phex[HEX_LEN(32)];

	tamper(v, "SELECT 1");
	/* Collect first: rewriting while stepping is not allowed. */
	struct { uint64_t seq; char actor[64]; uint8_t h[32], p[32]; } rows[64];
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
		audit_entry_from_row(st, &e);
		if (e.seq == from)
			e.ev.actor = "user:mallory";
		memcpy(e.prev_hash, prev, 32);
		audit_entry_hash(&e, e.hash);
		rows[n].seq = e.seq;
		snprintf(rows[n].actor, sizeof(rows[n].actor), "%s", e.ev.actor);
		memcpy(rows[n].h, e.hash, 32);
		memcpy(rows[n].p, prev, 32);
		memcpy(prev, e.hash, 32);
		n++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++) {
		enc_hex_encode(hex, rows[i].h, 32);
		enc_hex_encode(phex, rows[i].p, 32);
		snprintf(sql, sizeof(sql), "UPDATE audit_log SET actor = '%s', "
			 "hash = x'%s', prev_hash = x'%s' WHERE seq = %llu",
			 rows[i].actor, hex, phex, (unsigned long long)rows[i].seq);
		CHECK_EQ_INT(store_exec(&v->s, sql, errbuf, sizeof(errbuf)), 0);
	}
}

TEST(rewrite_with_recomputed_hashes_is_caught_by_checkpoints)
{
	struct env v = { 0 };

	env_start(&v, 20);
	rewrite_and_rehash(&v, 5);
	verify_bad(&v, 1, "entries 1..16 were rewritten");
	env_free(&v);
}

TEST(deleted_checkpoints_are_caught)
{
	struct env v = { 0 };

	env_start(&v, 40);
	tamper(&v, "DELETE FROM audit_checkpoints WHERE seq = 32");
	verify_bad(&v, 32, "missing from the store");
	tamper(&v, "DELETE FROM audit_checkpoints");
	verify_bad(&v, 0, "genesis checkpoint is missing");
	env_free(&v);
}

TEST(missing_head_record_fails_verification)
{
	struct env v = { 0 };
	struct audit_verify_result r;

	env_start(&v, 3);
	CHECK_EQ_INT(unlink(v.head), 0);
	verify_bad(&v, 0, "is missing");
	/* Without a head record to compare, only the store is checked. */
	CHECK_EQ_INT(audit_verify(&v.s, &v.pubkey, NULL, &r), 0);
	CHECK(r.ok);
	env_free(&v);
}

/* What the design cannot catch offline, stated as a test so that the
 * documentation stays true: entries newer than the last checkpoint can be
 * deleted while the hub is stopped. The running hub catches it instead. */
TEST(unsigned_tail_is_the_documented_limit)
{
	struct env v = { 0 };
	struct audit_verify_result r;

	env_start(&v, 20);	/* checkpoint at 16; 17..20 unsigned */
	tamper(&v, "DELETE FROM audit_log WHERE seq > 16");
	r = verify(&v);
	CHECK(r.ok);
	CHECK_EQ_U64(r.entries, 16);
	/* The running hub, though, refuses to sign over the gap. */
	CHECK_EQ_INT(audit_checkpoint(&v.a, true), -1);
	env_free(&v);
}

TEST(running_hub_refuses_to_sign_foreign_entries)
{
	struct env v = { 0 };

	env_start(&v, 3);
	CHECK_EQ_INT(audit_checkpoint(&v.a, true), 1);
	add(&v, 1);
	/* A well-formed entry appended behind the hub's back. */
	tamper(&v, "INSERT INTO audit_log SELECT seq + 1, time_ms, actor, source,"
		   " action, object, before_json, after_json, hash, hash"
		   " FROM audit_log WHERE seq = 4");
	CHECK_EQ_INT(audit_checkpoint(&v.a, true), -1);
	env_free(&v);
}

TEST(restart_adopts_an_unsigned_tail_and_says_so)
{
	struct env v = { 0 };
	struct audit_verify_result r;

	env_start(&v, 5);	/* nothing signed but the genesis */
	env_close(&v);	/* a crash: no closing checkpoint */
	env_open(&v);
	r = verify(&v);
	CHECK(r.ok);
	CHECK_EQ_U64(r.entries, 6);
	CHECK_EQ_U64(r.signed_seq, 6);
	CHECK_EQ_INT(store_query_int(&v.s, "SELECT count(*) FROM audit_log WHERE "
		     "action = 'audit.tail_adopted'", -1), 1);
	env_free(&v);
}

TEST(mismatched_head_is_kept_and_reset)
{
	struct env v = { 0 };
	struct audit_verify_result r;
	char aside[600];

	env_start(&v, 40);
	env_close(&v);
	/* A restored older database: the head record is ahead of it. */
	CHECK_EQ_INT(store_open(&v.s, v.db, 0, errbuf, sizeof(errbuf)), 0);
	tamper(&v, "DELETE FROM audit_log WHERE seq > 16;"
		   "DELETE FROM audit_checkpoints WHERE seq > 16;");
	store_close(&v.s);
	env_open(&v);
	r = verify(&v);
	CHECK(r.ok);
	CHECK_EQ_U64(r.head_resets, 1);
	CHECK_EQ_INT(store_query_int(&v.s, "SELECT count(*) FROM audit_log WHERE "
		     "action = 'audit.head_reset'", -1), 1);
	/* The old head record is kept as evidence. */
	snprintf(aside, sizeof(aside), "ls %s/audit.head.mismatch-* >/dev/null", v.dir);
	CHECK_EQ_INT(system(aside), 0);
	env_free(&v);
}

TEST(wrong_key_is_named)
{
	struct env v = { 0 };
	struct audit_key other;
	struct audit_verify_result r;
	const char *dir = fixture_tmpdir();

	env_start(&v, 2);
	CHECK_EQ_INT(audit_key_load_private(&other, fixture_path(dir, "k"), true,
					    errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(audit_verify(&v.s, &other, v.head, &r), 0);
	CHECK(!r.ok);
	CHECK(strstr(r.message, "not signed by this key") != NULL);
	audit_key_free(&other);
	fixture_rmdir(dir);
	env_free(&v);
}

TEST(head_record_parser_is_strict)
{
	struct audit_checkpoint c;
	char sig[129];
	char text[600];

	memset(sig, 'a', 128);
	sig[128] = 0;
	snprintf(text, sizeof(text), "postern-audit-head v1\nseq 5\nhead %064d\n"
		 "time_ms 7\nkey_id 0123456789abcdef\nsignature %s\n", 0, sig);
	CHECK_EQ_INT(audit_head_parse(text, strlen(text), &c), 0);
	CHECK_EQ_U64(c.seq, 5);
	CHECK_EQ_STR(c.key_id, "0123456789abcdef");
	CHECK_EQ_INT(audit_head_parse(text, strlen(text) - 1, &c), -1);
	text[29] = '+';	/* "seq +" */
	CHECK_EQ_INT(audit_head_parse(text, strlen(text), &c), -1);
	CHECK_EQ_INT(audit_head_parse("", 0, &c), -1);
}

int main(void)
{
	log_set_level(LOG_ERR);
	RUN(entry_hash_matches_the_documented_encoding);
	RUN(checkpoint_signature_matches_an_independent_vector);
	RUN(long_field_is_cut_on_a_utf8_boundary);
	RUN(clean_log_verifies);
	RUN(checkpoint_after_the_interval);
	RUN(triggers_refuse_updates_and_deletes);
	RUN_CASES(check_tamper_case, tamper_cases);
	RUN(rewrite_with_recomputed_hashes_is_caught_by_checkpoints);
	RUN(deleted_checkpoints_are_caught);
	RUN(missing_head_record_fails_verification);
	RUN(unsigned_tail_is_the_documented_limit);
	RUN(running_hub_refuses_to_sign_foreign_entries);
	RUN(restart_adopts_an_unsigned_tail_and_says_so);
	RUN(mismatched_head_is_kept_and_reset);
	RUN(wrong_key_is_named);
	RUN(head_record_parser_is_strict);
	return unit_done();
}
