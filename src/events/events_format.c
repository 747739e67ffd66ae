/* events_format.c - webhook bodies: generic JSON (Standard Webhooks'
 * {type, timestamp, data} shape, with the audit entry's seq and hashes),
 * Slack incoming-webhook messages, Discord webhook messages with an embed,
 * and ntfy JSON publishing (title, priority and tags from the severity).
 * No secret ever goes into a body: audit summaries carry none. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/enc.h"
#include "events/events.h"

static const char *const events_sev_name[] = { "", "info", "warning", "critical" };

static bool events_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int events_severity(const char *type)
{
	if (!strncmp(type, "audit.", 6) && strcmp(type, "audit.tail_adopted"))
		return 3;	/* verification failed, head record reset */
	if (events_ends(type, "failed") || events_ends(type, ".delayed") ||
	    events_ends(type, ".offline") || events_ends(type, ".expiring") ||
	    !strcmp(type, "tunnel.disconnect") ||
	    !strcmp(type, "webhook.disable"))
		return 2;
	return 1;
}

void events_msg_id(const struct audit_entry *e, char out[64])
{
	char h[HEX_LEN(8)];

	/* The seq names the event in this hub; the hash prefix keeps two hubs
	 * (or a store restored from a backup) from reusing an id. */
	enc_hex_encode(h, e->hash, 8);
	snprintf(out, 64, "msg_%llu_%s", (unsigned long long)e->seq, h);
}

static void events_rfc3339(int64_t ms, char out[48])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000));
}

/* A summary column as JSON (null when empty or not JSON). */
static json_t *events_summary(const char *s)
{
	json_t *j = *s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;

	return j ? j : json_null();
}

/* "route.create route:5 by user:admin" */
static void events_line(const struct audit_entry *e, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s by %s", e->ev.action, *e->ev.object ? " " : "",
		 e->ev.object, *e->ev.actor ? e->ev.actor : "system");
}

static json_t *events_json(const struct audit_entry *e, const char *hub_url)
{
	char ts[48], id[64], h[HEX_LEN(32)], ph[HEX_LEN(32)], link[512];

	events_rfc3339(e->time_ms, ts);
	events_msg_id(e, id);
	enc_hex_encode(h, e->hash, 32);
	enc_hex_encode(ph, e->prev_hash, 32);
	snprintf(link, sizeof(link), "%s/api/v1/audit?after=%llu&limit=1", hub_url,
		 (unsigned long long)(e->seq - 1));
	return json_pack("{s:s,s:s,s:{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:o}}",
		"type", e->ev.action, "timestamp", ts, "data",
		"id", id, "seq", (json_int_t)e->seq, "hash", h, "prev_hash", ph,
		"time", ts, "actor", e->ev.actor, "source", e->ev.source,
		"object", e->ev.object, "before", events_summary(e->ev.before),
		"after", events_summary(e->ev.after),
		"severity", events_sev_name[events_severity(e->ev.action)],
		"link", *hub_url ? json_string(link) : json_null());
}

static json_t *events_slack(const struct audit_entry *e, const char *hub_url)
{
	char line[600], text[1200];

	events_line(e, line, sizeof(line));
	snprintf(text, sizeof(text), "[postern %s] %s%s%s",
		 events_sev_name[events_severity(e->ev.action)], line,
		 *hub_url ? " - " : "", hub_url);
	return json_pack("{s:s,s:[{s:s,s:{s:s,s:s}}]}", "text", text,
			 "blocks", "type", "section", "text", "type", "mrkdwn",
			 "text", text);
}

static const char *events_or_dash(const char *s)
{
	return *s ? s : "-";
}

static json_t *events_discord(const struct audit_entry *e, const char *hub_url)
{
	static const int color[] = { 0, 0x3498db, 0xf1c40f, 0xe74c3c };
	char line[600], ts[48], seq[24];
	int sev = events_severity(e->ev.action);
	json_t *embed;

	events_line(e, line, sizeof(line));
	events_rfc3339(e->time_ms, ts);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq);
	embed = json_pack("{s:s,s:s,s:s,s:i,s:[{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b}]}",
		"title", e->ev.action, "description", line, "timestamp", ts,
		"color", color[sev], "fields",
		"name", "Actor", "value", events_or_dash(e->ev.actor), "inline", 1,
		"name", "Object", "value", events_or_dash(e->ev.object), "inline", 1,
		"name", "Audit entry", "value", seq, "inline", 1);
	if (embed && *hub_url)
		json_object_set_new(embed, "url", json_string(hub_url));
	return json_pack("{s:s,s:[o]}", "content", line, "embeds", embed);
}

/* ntfy publishes JSON to the server's root URL with the topic inside:
 * "https://ntfy.example/alerts" -> root "https://ntfy.example/", "alerts". */
static json_t *events_ntfy(const struct store_webhook *w, const struct audit_entry *e,
			   const char *hub_url, char **url)
{
	static const char *const tag[] = { "", "information_source", "warning",
					   "rotating_light" };
	const char *slash = strrchr(w->url, '/');
	char line[600], title[200];
	int sev = events_severity(e->ev.action);
	json_t *o;

	if (!slash || !slash[1] || !(*url = strndup(w->url, (size_t)(slash - w->url + 1))))
		return NULL;
	events_line(e, line, sizeof(line));
	snprintf(title, sizeof(title), "postern: %s", e->ev.action);
	o = json_pack("{s:s,s:s,s:s,s:i,s:[s]}", "topic", slash + 1, "title", title,
		      "message", line, "priority", sev + 2, "tags", tag[sev]);
	if (o && *hub_url)
		json_object_set_new(o, "click", json_string(hub_url));
	return o;
}

char *events_body(const struct store_webhook *w, const struct audit_entry *e,
		  const char *hub_url, char **url)
{
	json_t *o = NULL;
	char *s;

	*url = NULL;
	if (!strcmp(w->format, "slack"))
		o = events_slack(e, hub_url);
	else if (!strcmp(w->format, "discord"))
		o = events_discord(e, hub_url);
	else if (!strcmp(w->format, "ntfy"))
		o = events_ntfy(w, e, hub_url, url);
	else
		o = events_json(e, hub_url);
	if (!o || (!*url && !(*url = strdup(w->url)))) {
		json_decref(o);
		free(*url);
		*url = NULL;
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s) {
		free(*url);
		*url = NULL;
	}
	return s;
}
