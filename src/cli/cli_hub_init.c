/* cli_hub_init.c - `postern hub init`: the first command on a new hub
 * machine. Writes the hub's config, hands the daemon to systemd (or says
 * how to start it), and prints the setup link, the ports to open and the
 * DNS records to create (docs/quickstart.md). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/cmd.h"
#include "core/buf.h"
#include "core/num.h"
#include "core/svc.h"
#include "store/keyfile.h"

#define INIT_UNIT "postern-hub.service"
#define INIT_LE "https://acme-v02.api.letsencrypt.org/directory"
#define INIT_WAIT_S 60

struct init_args {
	const char *hostname, *email, *config, *data, *acme_dir, *listen, *socket;
	unsigned http_port, https_port, wg_port;
	bool acme, start, force;
};

static void init_usage(FILE *f)
{
	fprintf(f, "usage: postern hub init --hostname NAME --email ADDRESS [options]\n\n"
		"Writes the hub's config, enables and starts the postern-hub service\n"
		"(when systemd runs), and prints the setup link and the ports to open.\n\n"
		"  --hostname NAME       the hub's public DNS name (required)\n"
		"  --email ADDRESS       contact for the ACME account (required with ACME)\n"
		"  --no-acme             no ACME: a self-signed certificate for NAME\n"
		"  --acme-directory URL  the CA (default: Let's Encrypt)\n"
		"  --config FILE         default /etc/postern/hub.conf\n"
		"  --data-dir DIR        default /var/lib/postern\n"
		"  --control-socket PATH default " CLI_DEFAULT_SOCKET "\n"
		"  --listen IP           address of the listeners (default 0.0.0.0)\n"
		"  --http-port N --https-port N --wg-port N   default 80, 443, 51820\n"
		"  --no-start            write the config only\n"
		"  --force               replace a config that names a hostname already\n");
}

/* Letters, digits, '-' and '.', a letter or digit first: a value that
 * goes into the config file and URLs as it is. */
static bool init_dns_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static bool init_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || strlen(s) > 254 || !init_dns_name(at + 1))
		return false;
	for (const char *p = s; p < at; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".+-_", *p)))
			return false;
	return true;
}

/* A path or URL for the config: printable, no quotes, spaces or '#'. */
static bool init_plain(const char *s)
{
	if (!*s || strlen(s) > 400)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || *s == '"' || *s == '#' || *s == '\\')
			return false;
	return true;
}

static int init_port(const char *v, unsigned *out)
{
	uint64_t n;

	if (num_parse_u64(v, strlen(v), 1, 65535, &n) < 0)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int init_parse(int argc, char **argv, struct init_args *a)
{
	static const struct option longs[] = {
		{ "hostname", required_argument, NULL, 'n' },
		{ "email", required_argument, NULL, 'e' },
		{ "no-acme", no_argument, NULL, 'A' },
		{ "acme-directory", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, 'D' },
		{ "control-socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "http-port", required_argument, NULL, 'H' },
		{ "https-port", required_argument, NULL, 'S' },
		{ "wg-port", required_argument, NULL, 'w' },
		{ "no-start", no_argument, NULL, 'N' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'n': a->hostname = optarg; break;
		case 'e': a->email = optarg; break;
		case 'A': a->acme = false; break;
		case 'd': a->acme_dir = optarg; break;
		case 'c': a->config = optarg; break;
		case 'D': a->data = optarg; break;
		case 's': a->socket = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'H': bad |= init_port(optarg, &a->http_port); break;
		case 'S': bad |= init_port(optarg, &a->https_port); break;
		case 'w': bad |= init_port(optarg, &a->wg_port); break;
		case 'N': a->start = false; break;
		case 'F': a->force = true; break;
		case 'h': init_usage(stdout); return 1;
		default: return -1;
		}
	}
	if (bad || optind != argc)
		return -1;
	return 0;
}

/* Every value that reaches the file is checked here, once. */
static const char *init_check(const struct init_args *a)
{
	if (!a->hostname || !init_dns_name(a->hostname))
		return "--hostname: a DNS name (lower-case letters, digits, '-', '.') is required";
	if (a->acme && (!a->email || !init_email(a->email)))
		return "--email: an address for the ACME account is required (or --no-acme)";
	if (a->acme && !init_plain(a->acme_dir))
		return "--acme-directory: not a plain URL";
	if (!init_plain(a->config) || !init_plain(a->data) || a->data[0] != '/' ||
	    !init_plain(a->socket) || a->socket[0] != '/')
		return "--config, --data-dir, --control-socket: absolute paths without spaces or quotes";
	if (!init_plain(a->listen) || strchr(a->listen, ':') || strchr(a->listen, '['))
		return "--listen: an IPv4 address";
	return NULL;
}

static int init_format(struct buf *b, const struct init_args *a)
{
	char when[32];
	time_t now = time(NULL);
	int r;

	strftime(when, sizeof(when), "%Y-%m-%d", gmtime(&now));
	r = buf_printf(b,
		"# Postern hub configuration, written by `postern hub init` on %s.\n"
		"# Every key: docs/configuration.md. Reload with `systemctl reload\n"
		"# postern-hub` (listeners and workers need a restart).\n\n"
		"[hub]\n"
		"# The hub's own name: the admin UI and API answer on it; setup links\n"
		"# and join commands name it. Its DNS A/AAAA records point here.\n"
		"hostname = %s\n"
		"listen_http = \"%s:%u\"\n"
		"listen_https = \"%s:%u\"\n"
		"# The store, its keys and the audit log (created 0700, one hub only).\n"
		"data_dir = %s\n"
		"# The CLI's default; group postern may use it.\n"
		"control_socket = %s\n\n"
		"[wireguard]\n"
		"# UDP port agents dial (open it in the firewall).\n"
		"listen_port = %u\n\n",
		when, a->hostname, a->listen, a->http_port, a->listen, a->https_port,
		a->data, a->socket, a->wg_port);
	if (r < 0)
		return r;
	if (a->acme)
		return buf_printf(b,
			"[acme]\n"
			"# Certificates for the hostname and every route host, over\n"
			"# HTTP-01 on port %u. agree_tos accepts the CA's terms.\n"
			"directory = %s\n"
			"email = %s\n"
			"agree_tos = on\n"
			"state_dir = %s/acme\n",
			a->http_port, a->acme_dir, a->email, a->data);
	return buf_printf(b,
		"[tls]\n"
		"# No ACME: a self-signed certificate (agents pin it when joining).\n"
		"cert_dir = %s/certs\n"
		"selfsigned_name = %s\n", a->data, a->hostname);
}

/* 1 when `path` already names a hostname (an initialised hub). */
static int init_configured(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "hostname", 8);
	fclose(f);
	return found;
}

static int init_write(const struct init_args *a)
{
	struct group *g = getgrnam("postern");
	char err[512];
	struct buf b;
	int rc;

	buf_init(&b, 64 << 10);
	rc = init_format(&b, a);
	if (rc == 0)
		rc = keyfile_write(a->config, buf_head(&b), b.len, 0640, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "out of memory");
	buf_free(&b);
	if (rc < 0) {
		fprintf(stderr, "postern hub init: %s\n", err);
		return -1;
	}
	/* The hub runs as user postern: it reads its config through the group. */
	if (g && chown(a->config, 0, g->gr_gid) < 0)
		fprintf(stderr, "postern hub init: %s: cannot give it to group postern: %s\n",
			a->config, strerror(errno));
	printf("wrote %s\n", a->config);
	return 0;
}

/* The id of the user called "admin" (the hub's first user) in a page of
 * GET /users, or 0. */
static json_int_t init_admin_id(const json_t *page)
{
	const json_t *items = json_object_get(page, "items"), *u;
	size_t i;

	json_array_foreach(items, i, u) {
		const char *name = json_string_value(json_object_get(u, "name"));

		if (name && !strcmp(name, "admin"))
			return json_integer_value(json_object_get(u, "id"));
	}
	return 0;
}

/* Waits for the hub's control socket, then asks for a new setup link
 * for the first admin (the hub created it on its first start). */
static int init_setup_link(const struct init_args *a)
{
	struct cli_conn c = { .socket = a->socket };
	struct cli_resp r = { 0 };
	const char *link = NULL;
	json_int_t id = 0;
	char path[64];
	int rc = -1;

	for (int i = 0; i < INIT_WAIT_S * 4 && rc < 0; i++) {
		if (cli_request(&c, "GET", "/users", NULL, NULL, NULL, &r) == 0 &&
		    r.status == 200) {
			id = init_admin_id(r.json);
			rc = 0;
		}
		cli_resp_free(&r);
		memset(&r, 0, sizeof(r));
		if (rc < 0)
			usleep(250 * 1000);
	}
	if (rc < 0) {
		fprintf(stderr, "postern hub init: the hub did not answer on %s within %d s "
			"(see 'journalctl -u postern-hub')\n", a->socket, INIT_WAIT_S);
		return -1;
	}
	snprintf(path, sizeof(path), "/users/%lld/setup-link", (long long)id);
	if (id > 0 && cli_request(&c, "POST", path, NULL, NULL, NULL, &r) == 0 &&
	    r.status == 201)
		link = json_string_value(json_object_get(r.json, "link"));
	if (link)
		printf("\nOpen this link to set the admin password (valid 24 h, once):\n  %s\n",
		       link);
	else
		fprintf(stderr, "postern hub init: no setup link; make one with "
			"'postern user setup-link ID' (postern user list)\n");
	cli_resp_free(&r);
	return link ? 0 : -1;
}

static void init_next_steps(const struct init_args *a, bool started)
{
	if (!started && svc_systemd_running())
		printf("\nStart the hub:\n  systemctl enable --now " INIT_UNIT "\n");
	else if (!started)
		printf("\nStart the hub (systemd is not running here; as root, or under\n"
		       "your service manager as the unit file " INIT_UNIT " does):\n"
		       "  postern hub -c %s\n", a->config);
	if (!started)
		printf("On its first start it prints the admin's setup link; later,\n"
		       "'postern user setup-link 1' makes a new one.\n");
	printf("\nOpen these ports to the internet:\n"
	       "  TCP %u  HTTP%s\n  TCP %u  HTTPS (routes, admin UI, agents joining)\n"
	       "  UDP %u  WireGuard (agents dial in)\n",
	       a->http_port, a->acme ? " (ACME HTTP-01 challenges, redirects)" : " (redirects)",
	       a->https_port, a->wg_port);
	printf("\nDNS records (pointing at this machine's public address):\n"
	       "  %s  A / AAAA\n"
	       "  each route's host too (or one wildcard, *.example.com; a wildcard\n"
	       "  certificate needs DNS-01, docs/acme.md)\n", a->hostname);
	printf("\nNext, for each machine with services: 'postern agent create NAME'\n"
	       "prints the join command to run there.\n");
}

static int cli_hub_init(int argc, char **argv)
{
	struct init_args a = {
		.config = "/etc/postern/hub.conf", .data = "/var/lib/postern",
		.acme_dir = INIT_LE, .listen = "0.0.0.0", .socket = CLI_DEFAULT_SOCKET,
		.http_port = 80, .https_port = 443, .wg_port = 51820,
		.acme = true, .start = true,
	};
	char err[512];
	const char *why;
	int r = init_parse(argc, argv, &a);
	bool started = false;

	if (r) {
		if (r < 0)
			init_usage(stderr);
		return r > 0 ? CMD_EXIT_OK : CMD_EXIT_USAGE;
	}
	if ((why = init_check(&a))) {
		fprintf(stderr, "postern hub init: %s\n", why);
		return CMD_EXIT_USAGE;
	}
	if (!a.force && init_configured(a.config)) {
		fprintf(stderr, "postern hub init: %s names a hostname already (this hub "
			"is set up); --force replaces it\n", a.config);
		return CMD_EXIT_CONFLICT;
	}
	if (init_write(&a) < 0)
		return CMD_EXIT_FAIL;
	if (a.start && svc_systemd_running()) {
		if (svc_enable_now(INIT_UNIT, err, sizeof(err)) < 0) {
			fprintf(stderr, "postern hub init: %s\n", err);
			return CMD_EXIT_FAIL;
		}
		printf("enabled and started " INIT_UNIT "\n");
		started = true;
		if (init_setup_link(&a) < 0)
			return CMD_EXIT_FAIL;
	}
	init_next_steps(&a, started);
	return CMD_EXIT_OK;
}

/* `postern hub init ...` here; everything else is the daemon. */
int cli_cmd_hub(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "init"))
		return cli_hub_init(argc - 1, argv + 1);
	return hub_cmd_main(argc, argv);
}
