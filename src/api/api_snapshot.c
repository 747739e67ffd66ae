/* api_snapshot.c - the store's routes as route_specs, for the front's
 * route table (store/route_spec.h). Runs on the control thread. */
#define LOG_SUBSYS "api"
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/api_snapshot.h"
#include "core/array.h"
#include "core/log.h"

static const char *api_snap_str(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s ? strdup(s) : NULL;
}

static void api_snap_row(sqlite3_stmt *st, struct route_spec *s, char *name)
{
	memset(s, 0, sizeof(*s));
	s->id = (uint64_t)sqlite3_column_int64(st, 0);
	s->host = api_snap_str(st, 1);
	s->path_prefix = api_snap_str(st, 2);
	s->strip_prefix = sqlite3_column_int(st, 3);
	s->redirect_https = sqlite3_column_int(st, 4);
	s->hsts_max_age = (uint32_t)sqlite3_column_int64(st, 5);
	s->target = api_snap_str(st, 6);
	s->tls_verify = sqlite3_column_int(st, 7);
	s->tls_server_name = api_snap_str(st, 8);
	s->agent = api_snap_str(st, 9);
	s->tcp_listen_port = (uint16_t)sqlite3_column_int(st, 10);
	s->policy = api_snap_str(st, 11);
	s->agent_id = sqlite3_column_int64(st, 12);
	/* Only an enrolled agent has a tunnel address to dial. */
	if (s->agent && sqlite3_column_int(st, 13))
		s->agent_addr = api_snap_str(st, sqlite3_column_text(st, 14) ? 14 : 15);
	s->agent_node = s->agent && sqlite3_column_int(st, 16);
	snprintf(name, 32, "route-%llu", (unsigned long long)s->id);
	s->name = name;
}

int api_route_specs(struct api *api, struct api_route_specs *out)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT r.id, r.host,"
		" r.path_prefix, r.strip_prefix, r.redirect_https, r.hsts_max_age,"
		" r.target, r.tls_verify, r.tls_server_name, a.name,"
		" r.tcp_listen_port, r.policy, a.id, a.status = 'enrolled',"
		" a.tunnel_ipv4, a.tunnel_ipv6, a.kind = 'wireguard' FROM routes r"
		" LEFT JOIN agents a ON a.id = r.agent_id ORDER BY r.id");
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t scap = cap;	/* the two arrays grow in step */

		if (array_grow((void **)&out->specs, out->n, &scap, sizeof(*out->specs)) < 0 ||
		    array_grow((void **)&out->names, out->n, &cap, sizeof(*out->names)) < 0)
			break;
		api_snap_row(st, &out->specs[out->n], out->names[out->n]);
		out->n++;
	}
	sqlite3_finalize(st);
	/* The names moved with every realloc: point at their final place
	 * (a table of more than 64 routes read freed memory before). */
	for (size_t i = 0; i < out->n; i++)
		out->specs[i].name = out->names[i];
	if (rc != SQLITE_DONE) {
		log_err("cannot read the routes: %s", sqlite3_errmsg(api->store.db));
		api_route_specs_free(out);
		return -1;
	}
	return 0;
}

void api_route_specs_free(struct api_route_specs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct route_spec *s = &r->specs[i];
		free((char *)s->host);
		free((char *)s->path_prefix);
		free((char *)s->target);
		free((char *)s->tls_server_name);
		free((char *)s->agent);
		free((char *)s->agent_addr);
		free((char *)s->policy);
	}
	free(r->specs);
	free(r->names);
	memset(r, 0, sizeof(*r));
}
