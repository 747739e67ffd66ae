/* state.c - the agent's 0600 state file (see state.h). */
#include "agent/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/enc.h"
#include "core/file.h"
#include "core/num.h"
#include "core/secure.h"

#define SECTION ""

void agent_state_wipe(struct agent_state *st)
{
	secure_wipe(st->private_key, sizeof(st->private_key));
}

int agent_state_default_path(char *out, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (geteuid() == 0)
		n = snprintf(out, len, "/var/lib/postern/agent.state");
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, len, "%s/postern/agent.state", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, len, "%s/.local/state/postern/agent.state", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Reads a whole small file; the caller wipes and frees *text. */
static int state_read(const char *path, char **text, size_t *len, char *err,
		      size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536) {
		snprintf(err, errlen, "%s: not a regular file of at most 64 KiB", path);
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %03o lets others read the agent's "
			 "private key; chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	*len = (size_t)st.st_size;
	*text = malloc(*len + 1);
	if (!*text || read(fd, *text, *len) != (ssize_t)*len) {
		snprintf(err, errlen, "%s: cannot read", path);
		free(*text);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int state_str(struct conf *c, const char *key, char *dst, size_t cap,
		     int required, char *err, size_t errlen)
{
	const char *v = conf_get(c, SECTION, key);

	if (!v) {
		if (!required) {
			dst[0] = '\0';
			return 0;
		}
		snprintf(err, errlen, "%s: missing %s", c->name, key);
		return -1;
	}
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: %s is too long", c->name, key);
		return -1;
	}
	strcpy(dst, v);
	return 0;
}

/* Decodes a base64 key and wipes the text it came from. */
static int state_key(struct conf *c, const char *key, uint8_t *dst, char *err,
		     size_t errlen)
{
	char *v = (char *)conf_get(c, SECTION, key);
	long n;

	if (!v) {
		snprintf(err, errlen, "%s: missing %s", c->name, key);
		return -1;
	}
	n = enc_b64std_decode(dst, AGENT_STATE_KEY_LEN, v, strlen(v));
	secure_wipe(v, strlen(v));
	if (n != AGENT_STATE_KEY_LEN) {
		snprintf(err, errlen, "%s: %s is not a base64 32-byte key", c->name, key);
		return -1;
	}
	return 0;
}

static int state_fields(struct conf *c, struct agent_state *st, char *err,
			size_t errlen)
{
	uint64_t ka = 25;

	if (state_str(c, "name", st->name, sizeof(st->name), 1, err, errlen) ||
	    state_key(c, "private_key", st->private_key, err, errlen) ||
	    state_str(c, "hub_url", st->hub_url, sizeof(st->hub_url), 1, err, errlen) ||
	    state_str(c, "fingerprint", st->fingerprint, sizeof(st->fingerprint), 0, err, errlen) ||
	    state_key(c, "hub_public_key", st->hub_public_key, err, errlen) ||
	    state_str(c, "hub_endpoint", st->hub_endpoint, sizeof(st->hub_endpoint), 1, err, errlen) ||
	    state_str(c, "tunnel_ipv4", st->tunnel_ipv4, sizeof(st->tunnel_ipv4), 0, err, errlen) ||
	    state_str(c, "tunnel_ipv6", st->tunnel_ipv6, sizeof(st->tunnel_ipv6), 0, err, errlen) ||
	    state_str(c, "hub_tunnel_ipv4", st->hub_tunnel_ipv4, sizeof(st->hub_tunnel_ipv4), 0, err, errlen) ||
	    state_str(c, "hub_tunnel_ipv6", st->hub_tunnel_ipv6, sizeof(st->hub_tunnel_ipv6), 0, err, errlen) ||
	    conf_get_u64(c, SECTION, "keepalive", 1, 3600, &ka, err, errlen) < 0)
		return -1;
	st->keepalive = (unsigned)ka;
	if (!st->tunnel_ipv4[0] && !st->tunnel_ipv6[0]) {
		snprintf(err, errlen, "%s: no tunnel address", c->name);
		return -1;
	}
	return conf_check_unused(c, err, errlen);
}

int agent_state_load(const char *path, struct agent_state *st, char *err,
		     size_t errlen)
{
	struct conf c;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if (state_read(path, &text, &len, err, errlen) < 0)
		return -1;
	rc = conf_parse(&c, path, text, len, err, errlen);
	secure_free(text, len + 1);
	if (rc < 0)
		return -1;
	rc = state_fields(&c, st, err, errlen);
	conf_free(&c);
	if (rc < 0)
		agent_state_wipe(st);
	return rc;
}

/* key = "value" with the conf reader's escapes. */
static int state_put(struct buf *b, const char *key, const char *v)
{
	int rc = buf_printf(b, "%s = \"", key);

	for (; rc == 0 && *v; v++)
		rc = (*v == '"' || *v == '\\') ? buf_printf(b, "\\%c", *v) :
						 buf_append(b, v, 1);
	return rc ? rc : buf_append(b, "\"\n", 2);
}

static int state_put_key(struct buf *b, const char *key, const uint8_t *k)
{
	char text[B64_LEN(AGENT_STATE_KEY_LEN)];
	int rc;

	enc_b64std_encode(text, k, AGENT_STATE_KEY_LEN);
	rc = state_put(b, key, text);
	secure_wipe(text, sizeof(text));
	return rc;
}

static int state_format(struct buf *b, const struct agent_state *st)
{
	int rc = buf_printf(b, "# postern agent state, written by `postern agent "
			    "join`. Private: keep it mode 0600.\n");

	rc = rc ? rc : state_put(b, "name", st->name);
	rc = rc ? rc : state_put_key(b, "private_key", st->private_key);
	rc = rc ? rc : state_put(b, "hub_url", st->hub_url);
	if (st->fingerprint[0])
		rc = rc ? rc : state_put(b, "fingerprint", st->fingerprint);
	rc = rc ? rc : state_put_key(b, "hub_public_key", st->hub_public_key);
	rc = rc ? rc : state_put(b, "hub_endpoint", st->hub_endpoint);
	if (st->tunnel_ipv4[0])
		rc = rc ? rc : state_put(b, "tunnel_ipv4", st->tunnel_ipv4);
	if (st->tunnel_ipv6[0])
		rc = rc ? rc : state_put(b, "tunnel_ipv6", st->tunnel_ipv6);
	if (st->hub_tunnel_ipv4[0])
		rc = rc ? rc : state_put(b, "hub_tunnel_ipv4", st->hub_tunnel_ipv4);
	if (st->hub_tunnel_ipv6[0])
		rc = rc ? rc : state_put(b, "hub_tunnel_ipv6", st->hub_tunnel_ipv6);
	return rc ? rc : buf_printf(b, "keepalive = %u\n", st->keepalive);
}

int agent_state_save(const char *path, const struct agent_state *st, char *err,
		     size_t errlen)
{
	struct buf b;
	int rc;

	buf_init(&b, 65536);
	if (state_format(&b, st) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		buf_free_secure(&b);
		return -1;
	}
	rc = file_replace(path, buf_head(&b), b.len, 0600);
	buf_free_secure(&b);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}
