/* audit_head.c - the head record: the newest signed checkpoint, in a file
 * outside the database.
 *
 * Six lines, in this order, each ending in "\n":
 *   postern-audit-head v1
 *   seq DECIMAL
 *   head HEX64
 *   time_ms DECIMAL
 *   key_id HEX16
 *   signature HEX128
 * Someone who can rewrite the database can delete the newest entries and
 * checkpoints together, but cannot move this file back without the
 * signing key (to forge an older-looking one) or write access to the file
 * (to put back an old copy): docs/control-plane.md, "Threat model". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/enc.h"
#include "core/num.h"
#include "store/keyfile.h"

#define AUDIT_HEAD_MAX 512

/* Takes the line "NAME VALUE\n" at *p; sets *val. Returns 0 or -1. */
static int audit_head_line(const char **p, const char *end, const char *name,
			   const char **val, size_t *vlen)
{
	size_t n = strlen(name);
	const char *nl;

	if ((size_t)(end - *p) <= n || memcmp(*p, name, n) != 0 || (*p)[n] != ' ')
		return -1;
	*val = *p + n + 1;
	nl = memchr(*val, '\n', (size_t)(end - *val));
	if (!nl)
		return -1;
	*vlen = (size_t)(nl - *val);
	*p = nl + 1;
	return 0;
}

static int audit_head_num(const char **p, const char *end, const char *name,
			  uint64_t max, uint64_t *out)
{
	const char *v;
	size_t n;

	if (audit_head_line(p, end, name, &v, &n) < 0)
		return -1;
	return num_parse_u64(v, n, 0, max, out) < 0 ? -1 : 0;
}

static int audit_head_hex(const char **p, const char *end, const char *name,
			  uint8_t *out, size_t outlen)
{
	const char *v;
	size_t n;

	if (audit_head_line(p, end, name, &v, &n) < 0 || n != outlen * 2)
		return -1;
	return enc_hex_decode(out, outlen, v, n) < 0 ? -1 : 0;
}

int audit_head_parse(const char *text, size_t len, struct audit_checkpoint *c)
{
	static const char magic[] = "postern-audit-head v1\n";
	const char *p = text, *end = text + len;
	uint8_t id[AUDIT_KEY_ID_LEN / 2];
	uint64_t t;

	memset(c, 0, sizeof(*c));
	if (len < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -1;
	p += sizeof(magic) - 1;
	if (audit_head_num(&p, end, "seq", INT64_MAX, &c->seq) < 0 ||
	    audit_head_hex(&p, end, "head", c->head, AUDIT_HASH_LEN) < 0 ||
	    audit_head_num(&p, end, "time_ms", INT64_MAX, &t) < 0 ||
	    audit_head_hex(&p, end, "key_id", id, sizeof(id)) < 0 ||
	    audit_head_hex(&p, end, "signature", c->sig, AUDIT_SIG_LEN) < 0 ||
	    p != end)
		return -1;
	c->time_ms = (int64_t)t;
	enc_hex_encode(c->key_id, id, sizeof(id));
	return 0;
}

int audit_head_read(const char *path, struct audit_checkpoint *c, char *err,
		    size_t errlen)
{
	char text[AUDIT_HEAD_MAX];
	ssize_t n = keyfile_read(path, text, sizeof(text), err, errlen);

	if (n < 0)
		return n == -ENOENT ? -ENOENT : -1;
	if (audit_head_parse(text, (size_t)n, c) < 0) {
		snprintf(err, errlen, "%s: not a valid audit head record", path);
		return -1;
	}
	return 0;
}

int audit_head_write(const char *path, const struct audit_checkpoint *c,
		     char *err, size_t errlen)
{
	char head[HEX_LEN(AUDIT_HASH_LEN)], sig[HEX_LEN(AUDIT_SIG_LEN)];
	char text[AUDIT_HEAD_MAX];
	int n;

	enc_hex_encode(head, c->head, AUDIT_HASH_LEN);
	enc_hex_encode(sig, c->sig, AUDIT_SIG_LEN);
	n = snprintf(text, sizeof(text),
		     "postern-audit-head v1\nseq %llu\nhead %s\ntime_ms %lld\n"
		     "key_id %s\nsignature %s\n", (unsigned long long)c->seq,
		     head, (long long)c->time_ms, c->key_id, sig);
	return keyfile_write(path, text, (size_t)n, 0600, err, errlen);
}
