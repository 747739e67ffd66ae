/* admin.c - admin requests: worker -> control thread -> worker. */
#define LOG_SUBSYS "admin"
#include "front/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "http/parse.h"
#include "front/conn.h"
#include "front/front.h"
#include "front/front_ctx.h"
#include "front/worker.h"
#include "front/xchg.h"

/* Copies a view into the call's string area. Returns NULL when absent. */
static const char *admin_str(struct admin_call *a, struct str s)
{
	char *p;

	if (!s.p || a->strs_len + s.len + 1 > sizeof(a->strs))
		return NULL;
	p = a->strs + a->strs_len;
	memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	a->strs_len += s.len + 1;
	return p;
}

/* A selected header's value, NULL when absent. One sent twice is
 * ambiguous (which Origin, which Authorization would count?): its name
 * goes to req.repeated and the API refuses the request. */
static const char *admin_hdr(struct admin_call *a, const struct http_msg *m,
			     const char *name)
{
	struct str n = str_cstr(name);
	int i = http_msg_find(m, n);

	if (i < 0)
		return NULL;
	for (unsigned j = (unsigned)i + 1; j < m->nhdr; j++)
		if (str_eq_ci(m->hdr[j].name, n) && !a->req.repeated)
			a->req.repeated = name;
	return admin_str(a, m->hdr[i].value);
}

/* Every Cookie field joined with "; ": an HTTP/2 client may split its
 * cookies into crumbs (RFC 9113 s8.2.3), and HTTP/1.1 ones send two
 * lines at times. NULL when there is none, or no room for them all. */
static const char *admin_cookie(struct admin_call *a, const struct http_msg *m)
{
	char *out = a->strs + a->strs_len;
	size_t len = 0;
	bool any = false;

	for (unsigned i = 0; i < m->nhdr; i++) {
		struct str v = m->hdr[i].value;

		if (!str_eq_ci(m->hdr[i].name, STR_LIT("cookie")))
			continue;
		if (a->strs_len + len + 2 + v.len + 1 > sizeof(a->strs))
			return NULL;
		if (any) {
			memcpy(out + len, "; ", 2);
			len += 2;
		}
		memcpy(out + len, v.p, v.len);
		len += v.len;
		any = true;
	}
	if (!any)
		return NULL;
	out[len] = '\0';
	a->strs_len += len + 1;
	return out;
}

/* The transport the request truly came in on. The pipeline sends only
 * the HTTPS listener's requests here, and the plain-HTTP one never: a
 * request from anywhere else is marked so the API refuses it. */
static enum api_transport admin_transport(enum listener_kind kind)
{
	switch (kind) {
	case LISTEN_HTTPS:
		return API_TRANSPORT_HTTPS;
	case LISTEN_CONTROL:
		return API_TRANSPORT_UNIX;
	case LISTEN_AGENT:
		return API_TRANSPORT_TUNNEL;
	default:
		return API_TRANSPORT_HTTP;
	}
}

static void admin_fill_req(struct admin_call *a, const struct http_msg *m,
			   const char *ip, enum listener_kind kind)
{
	struct api_req *r = &a->req;
	const char *q = memchr(m->path.p, '?', m->path.len);
	size_t plen = q ? (size_t)(q - m->path.p) : m->path.len;

	r->method = admin_str(a, m->method);
	r->path = admin_str(a, str_make(m->path.p, plen));
	r->query = q ? admin_str(a, str_make(q + 1, m->path.len - plen - 1)) : NULL;
	r->host = m->host.len ? admin_str(a, m->host) : NULL;
	r->authorization = admin_hdr(a, m, "authorization");
	r->cookie = admin_cookie(a, m);
	r->origin = admin_hdr(a, m, "origin");
	r->if_match = admin_hdr(a, m, "if-match");
	r->content_type = admin_hdr(a, m, "content-type");
	r->csrf_token = admin_hdr(a, m, "x-csrf-token");
	r->user_agent = admin_hdr(a, m, "user-agent");
	r->client_ip = admin_str(a, str_cstr(ip));
	r->transport = admin_transport(kind);
}

static void admin_fill(struct admin_call *a, struct conn *c, const struct http_msg *m)
{
	struct api_req *r = &a->req;

	admin_fill_req(a, m, c->ip, c->kind);
	if (c->kind == LISTEN_CONTROL) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		r->client_ip = "";
		r->peer_uid = (uid_t)-1;
		r->peer_gid = (gid_t)-1;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			r->peer_uid = cred.uid;
			r->peer_gid = cred.gid;
			r->peer_pid = cred.pid;
		}
	}
	/* LISTEN_AGENT: the control thread maps the tunnel address to the
	 * agent. */
}

static void admin_free(struct admin_call *a)
{
	buf_free(&a->body);
	api_resp_free(&a->resp);
	free(a);
}

/* Calls cross threads on two locked lists: the control thread's queue
 * (front_ctx) and each worker's finished calls. The order within a list
 * does not matter; push adds `a` under `lock`, take empties the list and
 * returns what it held. */
static void admin_list_push(pthread_mutex_t *lock, struct admin_call **head,
			    struct admin_call *a)
{
	pthread_mutex_lock(lock);
	a->next = *head;
	*head = a;
	pthread_mutex_unlock(lock);
}

static struct admin_call *admin_list_take(pthread_mutex_t *lock, struct admin_call **head)
{
	struct admin_call *list;

	pthread_mutex_lock(lock);
	list = *head;
	*head = NULL;
	pthread_mutex_unlock(lock);
	return list;
}

void admin_submit_call(struct admin_call *a)
{
	struct front_ctx *fc = a->w->fc;

	a->submitted = true;
	a->req.body = buf_head(&a->body);
	a->req.body_len = a->body.len;
	admin_list_push(&fc->admin_lock, &fc->admin_queue, a);
	loop_async_send(fc->admin_wake);
}

void admin_start(struct conn *c, const struct http_msg *m, int head)
{
	struct admin_call *a = calloc(1, sizeof(*a));

	if (!a || !m->method.len) {
		free(a);
		conn_error(c, 503);
		return;
	}
	if (m->body == HTTP_BODY_LENGTH && m->content_length > API_BODY_MAX) {
		free(a);
		conn_error(c, 413);
		return;
	}
	a->w = c->w;
	a->c = c;
	a->head_req = m->meth == HTTP_M_HEAD;
	buf_init(&a->body, API_BODY_MAX);
	api_resp_init(&a->resp);
	admin_fill(a, c, m);
	c->admin = a;
	c->body = m->body;
	c->left = m->content_length;
	c->body_total = 0;
	http_chunked_init(&c->dech, false);
	buf_consume(&c->in, (size_t)head);
	c->scan = 0;
	if (m->body == HTTP_BODY_NONE) {
		admin_body_end(c);
		return;
	}
	c->admin_body = true;
	c->st = CONN_BODY;
	if ((m->flags & HTTP_F_CONTINUE) && c->in.len == 0) {
		buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
}

size_t admin_body(struct conn *c, const char *p, size_t n)
{
	if (buf_append(&c->admin->body, p, n) < 0) {
		conn_error(c, 413);
		return n;
	}
	return n;
}

void admin_body_end(struct conn *c)
{
	c->admin_body = false;
	c->st = CONN_ADMIN;
	loop_timer_disarm(c->w->loop, &c->timer);
	admin_submit_call(c->admin);
}

void admin_call_detach(struct admin_call *a)
{
	a->c = NULL;
	/* Not yet submitted (still reading its body): nobody else has it. */
	if (!a->submitted)
		admin_free(a);
}

/* Default handler until the control plane registers one. */
static void admin_unavailable(const struct api_req *req, struct api_resp *resp)
{
	(void)req;
	resp->status = 503;
	buf_reset(&resp->headers);
	buf_printf(&resp->headers, "Cache-Control: no-store\r\n");
	buf_reset(&resp->body);
	buf_printf(&resp->body, "{\"error\":{\"code\":\"unavailable\",\"message\":"
		   "\"the admin API is not available\"}}");
}

/* The handler finished a call (control thread): back to its worker. */
static void admin_call_done(void *arg)
{
	struct admin_call *a = arg;
	struct worker *w = a->w;

	admin_list_push(&w->admin_lock, &w->admin_done, a);
	loop_async_send(&w->async);
}

void admin_control_run(struct front_ctx *fc)
{
	struct admin_call *list = admin_list_take(&fc->admin_lock, &fc->admin_queue), *next;

	for (; list; list = next) {
		next = list->next;
		if (fc->admin_fn) {
			fc->admin_fn(fc->admin_ctx, &list->req, &list->resp,
				      admin_call_done, list);
		} else {
			admin_unavailable(&list->req, &list->resp);
			admin_call_done(list);
		}
	}
}

static void admin_reply(struct admin_call *a)
{
	struct conn *c = a->c;
	struct api_resp *r = &a->resp;
	bool ctype = r->headers.len && memmem(buf_head(&r->headers), r->headers.len,
					      "Content-Type:", 13);

	c->admin = NULL;
	conn_enter(c);
	/* The API's headers carry Cache-Control (api_handle). */
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n%s",
		   r->status, errpage_status_text(r->status),
		   ctype ? "" : "Content-Type: application/json\r\n", r->body.len,
		   c->keepalive && !c->w->draining ? "" : "Connection: close\r\n");
	if (r->headers.len)
		buf_append(&c->out, buf_head(&r->headers), r->headers.len);
	buf_append(&c->out, "\r\n", 2);
	if (!a->head_req && r->body.len)
		buf_append(&c->out, buf_head(&r->body), r->body.len);
	c->st = CONN_RESP;
	conn_request_done(c);
	conn_leave(c);
}

void admin_worker_replies(struct worker *w)
{
	struct admin_call *list = admin_list_take(&w->admin_lock, &w->admin_done), *next;

	for (; list; list = next) {
		next = list->next;
		if (list->c)
			admin_reply(list);
		else if (list->h2st)
			list->h2_reply(list);
		admin_free(list);
	}
}

struct admin_call *admin_new_h2(struct worker *w, const struct http_msg *m,
				const char *client_ip, enum listener_kind kind, void *st,
				void (*reply)(struct admin_call *a))
{
	struct admin_call *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->w = w;
	a->h2st = st;
	a->h2_reply = reply;
	a->head_req = m->meth == HTTP_M_HEAD;
	buf_init(&a->body, API_BODY_MAX);
	api_resp_init(&a->resp);
	admin_fill_req(a, m, client_ip, kind);
	return a;
}

void admin_h2_detach(struct admin_call *a)
{
	a->h2st = NULL;
	if (!a->submitted)
		admin_free(a);
}
