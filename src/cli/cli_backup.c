/* cli_backup.c - `postern backup FILE`, `postern secrets rotate-key`, and
 * the hidden `postern api-endpoints` (the API's table, for the OpenAPI
 * test). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_int.h"
#include "cli/cmd.h"
#include "cli/noun.h"
#include "store/store.h"

#define CLI_DEFAULT_DATA "/var/lib/postern"

static const char *cli_data_dir(int argc, char **argv, int *i)
{
	const char *dir = getenv("POSTERN_DATA");

	for (int k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--data") && k + 1 < argc) {
			dir = argv[k + 1];
			*i = k;
		}
	return dir ? dir : CLI_DEFAULT_DATA;
}

int cli_cmd_backup(int argc, char **argv)
{
	int at = 0;
	const char *dir = cli_data_dir(argc, argv, &at), *file = NULL;
	char db[1024], err[512];
	struct stat sb;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: postern backup FILE [--data DIR]\n");
		return CMD_EXIT_OK;
	}
	for (int k = 1; k < argc; k++) {
		if (k == at || k == at + 1)
			continue;
		if (argv[k][0] == '-' || file) {
			fprintf(stderr, "usage: postern backup FILE [--data DIR]\n");
			return CMD_EXIT_USAGE;
		}
		file = argv[k];
	}
	if (!file) {
		fprintf(stderr, "usage: postern backup FILE [--data DIR]\n");
		return CMD_EXIT_USAGE;
	}
	snprintf(db, sizeof(db), "%s/%s", dir, STORE_DB_NAME);
	if (store_backup(db, file, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern backup: %s\n", err);
		return CMD_EXIT_FAIL;
	}
	stat(file, &sb);
	printf("postern: wrote %s (%lld bytes), a consistent copy of %s\n"
	       "postern: the keys are not in it: keep %s/secret.key and "
	       "%s/audit.key (and audit.key.pub) safe separately\n", file,
	       (long long)sb.st_size, db, dir, dir);
	return CMD_EXIT_OK;
}

/* Runs the rotation through api_handle on a store opened here (the hub
 * must be stopped: it holds the old key in memory). */
static int secrets_rotate_offline(const char *dir)
{
	struct api_config cfg = { .data_dir = dir };
	struct api_req req = { .method = "POST", .path = "/api/v1/secrets/rotate-key",
			       .client_ip = "", .transport = API_TRANSPORT_UNIX,
			       .peer_uid = getuid(), .peer_gid = getgid(),
			       .peer_pid = getpid() };
	struct api_resp resp;
	char err[512];
	struct api *api = api_open(&cfg, err, sizeof(err));
	int st;

	if (!api) {
		fprintf(stderr, "postern secrets: %s\n", err);
		return CMD_EXIT_FAIL;
	}
	api_resp_init(&resp);
	api_handle(api, &req, &resp);
	st = resp.status == 200 ? CMD_EXIT_OK : resp.status == 403 ? CMD_EXIT_AUTH
							   : CMD_EXIT_FAIL;
	fwrite(buf_head(&resp.body), 1, resp.body.len, st ? stderr : stdout);
	api_resp_free(&resp);
	api_close(api);
	return st;
}

int cli_cmd_secrets(int argc, char **argv)
{
	struct cli_args a = { .verb = "rotate-key" };
	int at = 0;

	if (argc < 2 || strcmp(argv[1], "rotate-key")) {
		bool help = argc == 2 && !strcmp(argv[1], "--help");
		fprintf(help ? stdout : stderr, "usage: postern secrets rotate-key [--data "
			"DIR (hub stopped)] [connection options]\n");
		return help ? CMD_EXIT_OK : CMD_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--data"))
			return secrets_rotate_offline(cli_data_dir(argc, argv, &at));
	cli_conn_defaults(&a.conn);
	for (int i = 2; i < argc; i++)
		if (cli_conn_option(&a.conn, argc, argv, &i) <= 0) {
			fprintf(stderr, "postern secrets: unknown argument %s\n", argv[i]);
			return CMD_EXIT_USAGE;
		}
	return cli_call_print(&a, "POST", "/secrets/rotate-key", NULL, NULL, NULL);
}

int cli_cmd_api_endpoints(int argc, char **argv)
{
	static const char *const perms[] = { "none", "read", "write", "admin" };

	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		printf("usage: postern api-endpoints (METHOD PATTERN PERMISSION lines)\n");
		return CMD_EXIT_OK;
	}
	for (size_t i = 0; i < api_endpoints_count; i++)
		printf("%s %s %s\n", api_endpoints[i].method, api_endpoints[i].pattern,
		       perms[api_endpoints[i].perm]);
	return CMD_EXIT_OK;
}
