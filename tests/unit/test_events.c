/* test_events.c - webhook pieces: the signature against the Standard
 * Webhooks specification's example (recomputed independently with Python's
 * hmac), filters, the address rules, the retry schedule, and bodies. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "unit.h"

#include "core/clock.h"
#include "core/enc.h"
#include "events/events.h"

TEST(signature_matches_the_spec_example)
{
	static const char body[] = "{\"test\": 2432232314}";
	char out[256] = "";

	CHECK_EQ_INT(events_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				 "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
				 strlen(body), out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* A second secret appends a second signature. */
	CHECK_EQ_INT(events_sign("whsec_AAAA", "m", 1, "x", 1, out, sizeof(out)), 0);
	CHECK(strchr(out, ' ') && !strncmp(strchr(out, ' '), " v1,", 4));
	CHECK_EQ_INT(events_sign("nope", "m", 1, "x", 1, out, sizeof(out)), -1);
	CHECK_EQ_INT(events_sign("whsec_!!", "m", 1, "x", 1, out, sizeof(out)), -1);
	char small[8] = "";
	CHECK_EQ_INT(events_sign("whsec_AAAA", "m", 1, "x", 1, small, sizeof(small)), -1);
}

TEST(new_secrets_are_random_whsec)
{
	char a[EVENTS_SECRET_LEN], b[EVENTS_SECRET_LEN];
	uint8_t raw[64];

	CHECK_EQ_INT(events_secret_new(a), 0);
	CHECK_EQ_INT(events_secret_new(b), 0);
	CHECK(!strncmp(a, "whsec_", 6) && strcmp(a, b));
	CHECK_EQ_INT(enc_b64std_decode(raw, sizeof(raw), a + 6, strlen(a + 6)), 32);
}

TEST(filters)
{
	CHECK(events_filter_match("*", "route.create"));
	CHECK(events_filter_match("agent.*, certificate.failed", "agent.offline"));
	CHECK(events_filter_match("agent.* certificate.failed", "certificate.failed"));
	CHECK(!events_filter_match("agent.*", "agent"));
	CHECK(!events_filter_match("agent.*", "agents.offline"));
	CHECK(!events_filter_match("certificate.failed", "certificate.failed_x"));
	CHECK(!events_filter_match("", "x"));
	CHECK(events_filter_check("agent.*, auth.delayed") == NULL);
	CHECK(events_filter_check("*") == NULL);
	CHECK(events_filter_check("") != NULL);
	CHECK(events_filter_check(" , ") != NULL);
	CHECK(events_filter_check("agent.**") != NULL);
	CHECK(events_filter_check("a*") != NULL);
	CHECK(events_filter_check("Agent.x") != NULL);
}

/* Why events_addr_refused() refuses `a` (IPv4, or IPv6 when it holds a
 * ':') under `flags`, or NULL. */
static const char *refused(unsigned flags, const char *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (!strchr(a, ':')) {
		inet_pton(AF_INET, a, &sin.sin_addr);
		return events_addr_refused(flags, (struct sockaddr *)&sin, sizeof(sin));
	}
	inet_pton(AF_INET6, a, &sin6.sin6_addr);
	return events_addr_refused(flags, (struct sockaddr *)&sin6, sizeof(sin6));
}

TEST(address_rules)
{
	CHECK(refused(0, "203.0.113.5") == NULL);
	CHECK_EQ_STR(refused(0, "127.0.0.1"), "loopback");
	CHECK(refused(EVENTS_ADDR_F_LOOPBACK, "127.0.0.1") == NULL);
	CHECK_EQ_STR(refused(EVENTS_ADDR_F_PRIVATE, "169.254.169.254"), "link-local or cloud metadata");
	CHECK(refused(0, "10.0.0.1") != NULL && refused(0, "172.16.3.1") != NULL &&
	      refused(0, "192.168.1.10") != NULL && refused(0, "100.64.0.1") != NULL);
	CHECK(refused(EVENTS_ADDR_F_PRIVATE, "192.168.1.10") == NULL);
	CHECK(refused(0, "172.32.0.1") == NULL);
	CHECK(refused(EVENTS_ADDR_F_PRIVATE | EVENTS_ADDR_F_LOOPBACK, "0.0.0.0") != NULL);
	CHECK(refused(EVENTS_ADDR_F_PRIVATE, "224.0.0.1") != NULL);
	CHECK(refused(EVENTS_ADDR_F_PRIVATE, "255.255.255.255") != NULL);
	CHECK_EQ_STR(refused(0, "::1"), "loopback");
	CHECK(refused(0, "fe80::1") != NULL && refused(0, "fd00::1") != NULL && refused(0, "::") != NULL);
	CHECK(refused(EVENTS_ADDR_F_PRIVATE, "fd00::1") == NULL);
	CHECK(refused(0, "2001:db8::1") == NULL);
	/* IPv4-mapped addresses follow the IPv4 rules. */
	CHECK_EQ_STR(refused(0, "::ffff:127.0.0.1"), "loopback");
	CHECK(refused(0, "::ffff:169.254.169.254") != NULL);
}

TEST(retry_schedule)
{
	int64_t ms[EVENTS_SCHEDULE_MAX];

	CHECK_EQ_INT(events_schedule_parse(EVENTS_SCHEDULE_DEFAULT, ms, EVENTS_SCHEDULE_MAX), 10);
	CHECK_EQ_INT(ms[0], 0);
	CHECK_EQ_INT(ms[1], 5000);
	CHECK_EQ_INT(ms[2], 300000);
	CHECK_EQ_INT(ms[9], 86400000);
	CHECK_EQ_INT(events_schedule_parse("0s, 100ms,1s", ms, EVENTS_SCHEDULE_MAX), 3);
	CHECK_EQ_INT(ms[1], 100);
	CHECK_EQ_INT(events_schedule_parse("", ms, EVENTS_SCHEDULE_MAX), -1);
	CHECK_EQ_INT(events_schedule_parse("5x", ms, EVENTS_SCHEDULE_MAX), -1);
	CHECK_EQ_INT(events_schedule_parse("-5s", ms, EVENTS_SCHEDULE_MAX), -1);
	CHECK_EQ_INT(events_schedule_parse("1s,1s,1s", ms, 2), -1);
	CHECK_EQ_INT(events_schedule_parse("31d", ms, 2), -1);
	events_schedule_parse("0s,1s,10s", ms, EVENTS_SCHEDULE_MAX);
	for (int i = 0; i < 50; i++) {
		int64_t d = events_retry_delay(ms, 3, 1, -1);
		CHECK(d >= 1000 && d <= 1200);	/* up to 20% jitter */
	}
	CHECK_EQ_INT(events_retry_delay(ms, 3, 3, -1), -1);	/* exhausted */
	CHECK_EQ_INT(events_retry_delay(ms, 3, 1, 60000), 60000);	/* Retry-After */
}

/* The body events_body() makes of `e` for webhook `w`, parsed (the caller
 * json_decref()s it); checks that it goes to `want_url`. */
static json_t *body_of(const struct store_webhook *w, const struct audit_entry *e,
		       const char *hub, const char *want_url)
{
	char *url = NULL;
	char *s = events_body(w, e, hub, &url);
	json_t *j = json_loads(s, 0, NULL);

	CHECK_EQ_STR(url, want_url);
	free(s);
	free(url);
	return j;
}

TEST(bodies)
{
	struct audit_entry e = { .seq = 7, .time_ms = 1700000000123 };
	struct store_webhook w = { .id = 1 };
	json_t *j;

	e.ev = (struct audit_event){ "user:admin", "192.0.2.1", "auth.delayed",
				     "ip:192.0.2.1", "", "{\"a\":1}" };
	memset(e.hash, 0xab, sizeof(e.hash));
	snprintf(w.url, sizeof(w.url), "https://hooks.example/in");
	snprintf(w.format, sizeof(w.format), "json");
	j = body_of(&w, &e, "https://hub.example", "https://hooks.example/in");
	CHECK_EQ_STR(json_string_value(json_object_get(j, "type")), "auth.delayed");
	CHECK_EQ_STR(json_string_value(json_object_get(j, "timestamp")), "2023-11-14T22:13:20.123Z");
	json_t *d = json_object_get(j, "data");
	CHECK_EQ_INT(json_integer_value(json_object_get(d, "seq")), 7);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "id")), "msg_7_abababababababab");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(d, "after"), "a")), 1);
	CHECK(json_is_null(json_object_get(d, "before")));
	CHECK_EQ_STR(json_string_value(json_object_get(d, "severity")), "warning");
	json_decref(j);
	snprintf(w.format, sizeof(w.format), "ntfy");
	snprintf(w.url, sizeof(w.url), "https://ntfy.example/sub/alerts");
	j = body_of(&w, &e, "", "https://ntfy.example/sub/");
	CHECK_EQ_STR(json_string_value(json_object_get(j, "topic")), "alerts");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "priority")), 4);
	json_decref(j);
	CHECK_EQ_INT(events_severity("audit.verify_failed"), 3);
	CHECK_EQ_INT(events_severity("certificate.failed"), 2);
	CHECK_EQ_INT(events_severity("route.create"), 1);
}

int main(void)
{
	RUN(signature_matches_the_spec_example);
	RUN(new_secrets_are_random_whsec);
	RUN(filters);
	RUN(address_rules);
	RUN(retry_schedule);
	RUN(bodies);
	return unit_done();
}
