/* test_state.c - the agent's state file: round trip, 0600, refusals. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "agent/state.h"

static char dir[] = "/tmp/postern-state-XXXXXX";

static void sample(struct agent_state *st)
{
	memset(st, 0, sizeof(*st));
	strcpy(st->name, "nas");
	for (int i = 0; i < 32; i++) {
		st->private_key[i] = (uint8_t)(i * 7 + 1);
		st->hub_public_key[i] = (uint8_t)(255 - i);
	}
	strcpy(st->hub_url, "https://hub.example.com:8443/x?\"q\\");
	strcpy(st->fingerprint, "ab:cd");
	strcpy(st->hub_endpoint, "hub.example.com:51820");
	strcpy(st->tunnel_ipv4, "100.96.0.2/32");
	strcpy(st->tunnel_ipv6, "fd7a:96::2/128");
	strcpy(st->hub_tunnel_ipv4, "100.96.0.1");
	st->keepalive = 25;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

TEST(round_trip_mode_0600)
{
	struct agent_state a, b;
	char path[256], err[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/agent.state", dir);
	sample(&a);
	CHECK_EQ_INT(agent_state_save(path, &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK_EQ_INT(agent_state_load(path, &b, err, sizeof(err)), 0);
	CHECK_EQ_MEM(b.private_key, a.private_key, 32);
	CHECK_EQ_MEM(b.hub_public_key, a.hub_public_key, 32);
	CHECK_EQ_STR(b.hub_url, a.hub_url);
	CHECK_EQ_STR(b.fingerprint, "ab:cd");
	CHECK_EQ_STR(b.tunnel_ipv6, "fd7a:96::2/128");
	CHECK_EQ_STR(b.hub_tunnel_ipv6, "");
	CHECK_EQ_INT(b.keepalive, 25);
	/* Saving again replaces the file atomically. */
	strcpy(a.name, "nas2");
	CHECK_EQ_INT(agent_state_save(path, &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(agent_state_load(path, &b, err, sizeof(err)), 0);
	CHECK_EQ_STR(b.name, "nas2");
	agent_state_wipe(&b);
	static const uint8_t zero[32];
	CHECK_EQ_MEM(b.private_key, zero, 32);
	unlink(path);
}

TEST(refuses_readable_by_others)
{
	struct agent_state a, b;
	char path[256], err[256];

	snprintf(path, sizeof(path), "%s/open.state", dir);
	sample(&a);
	CHECK_EQ_INT(agent_state_save(path, &a, err, sizeof(err)), 0);
	chmod(path, 0644);
	CHECK_EQ_INT(agent_state_load(path, &b, err, sizeof(err)), -1);
	CHECK(strstr(err, "chmod 600") != NULL);
	unlink(path);
}

TEST(refuses_bad_content)
{
	struct agent_state b;
	char path[256], err[256];
	static const char *const bad[] = {
		"name = x\n",	/* missing keys */
		"name = x\nprivate_key = \"AAAA\"\nhub_url = u\nhub_public_key = \"AAAA\"\n"
		"hub_endpoint = e\ntunnel_ipv4 = 1\n",	/* short keys */
		"name = x\nprivate_key = \"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"\n"
		"hub_url = u\nhub_public_key = \"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"\n"
		"hub_endpoint = e\n",	/* no tunnel address */
		"name = x\nprivate_key = \"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"\n"
		"hub_url = u\nhub_public_key = \"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"\n"
		"hub_endpoint = e\ntunnel_ipv4 = t\ntypo = 1\n",	/* unknown key */
	};
	snprintf(path, sizeof(path), "%s/bad.state", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i], 0600);
		err[0] = 0;
		if (agent_state_load(path, &b, err, sizeof(err)) != -1 || !err[0])
			UNIT_FAIL("bad state %zu accepted", i);
	}
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(round_trip_mode_0600);
	RUN(refuses_readable_by_others);
	RUN(refuses_bad_content);
	rmdir(dir);
	return unit_done();
}
