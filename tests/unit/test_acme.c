/* test_acme.c - ACME pieces that need no CA: message parsers, JWS and
 * thumbprints, ARI certID, renewal timing, names, the challenge store, the
 * DNS wire format, SigV4 (libcurl through acme_http, against a loopback
 * capture) and the Route 53 XML answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "acme/acme_cert.h"
#include "acme/acme_chall.h"
#include "acme/acme_key.h"
#include "acme/acme_msg.h"
#include "acme/acme_name.h"
#include "acme/acme_renew.h"
#include "acme/acme_http.h"
#include "acme/dns_provider.h"
#include "acme/dns_query.h"
#include "acme/r53_xml.h"
#include "core/secure.h"
#include "unit.h"

#define J(s) (s), strlen(s)

TEST(time_parse)
{
	int64_t t;

	CHECK_EQ_INT(acme_time_parse(J("1970-01-01T00:00:00Z"), &t), 0);
	CHECK_EQ_INT(t, 0);
	CHECK_EQ_INT(acme_time_parse(J("2025-01-02T03:04:05Z"), &t), 0);
	CHECK_EQ_INT(t, 1735787045);
	CHECK_EQ_INT(acme_time_parse(J("2025-01-02T05:04:05.123456+02:00"), &t), 0);
	CHECK_EQ_INT(t, 1735787045);
	CHECK_EQ_INT(acme_time_parse(J("2025-01-01T22:04:05-05:00"), &t), 0);
	CHECK_EQ_INT(t, 1735787045);
	CHECK_EQ_INT(acme_time_parse(J("2025-02-30T00:00:00Z"), &t), -EINVAL);
	CHECK_EQ_INT(acme_time_parse(J("2025-01-02 03:04:05Z"), &t), -EINVAL);
	CHECK_EQ_INT(acme_time_parse(J("2025-01-02T03:04:05"), &t), -EINVAL);
	CHECK_EQ_INT(acme_time_parse(J("2025-01-02T03:04:05.Z"), &t), -EINVAL);
	CHECK_EQ_INT(acme_time_parse(J("+025-01-02T03:04:05Z"), &t), -EINVAL);
}

TEST(order_and_authz_parse)
{
	static const char order[] =
		"{\"status\":\"ready\",\"identifiers\":[{\"type\":\"dns\",\"value\":"
		"\"a.example.com\"},{\"type\":\"dns\",\"value\":\"*.example.com\"}],"
		"\"authorizations\":[\"https://ca/a/1\",\"https://ca/a/2\"],"
		"\"finalize\":\"https://ca/f/1\",\"unknown\":{\"x\":1}}";
	static const char authz[] =
		"{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":"
		"\"example.com\"},\"wildcard\":true,\"challenges\":[{\"type\":"
		"\"dns-01\",\"url\":\"https://ca/c/1\",\"token\":\"tok\",\"status\":"
		"\"pending\"}]}";
	struct acme_order *o = malloc(sizeof(*o));
	struct acme_authz *a = malloc(sizeof(*a));

	CHECK_EQ_INT(acme_order_parse(J(order), o), 0);
	CHECK_EQ_INT(o->status, ACME_ST_READY);
	CHECK_EQ_INT(o->n_idents, 2);
	CHECK_EQ_STR(o->idents[1].value, "*.example.com");
	CHECK_EQ_STR(o->authz[1], "https://ca/a/2");
	CHECK(o->certificate == NULL);
	acme_order_free(o);
	CHECK_EQ_INT(acme_order_parse(J("{\"status\":\"bogus\"}"), o), -EINVAL);
	acme_order_free(o);
	CHECK_EQ_INT(acme_authz_parse(J(authz), a), 0);
	CHECK(a->wildcard);
	CHECK_EQ_INT(a->n_chall, 1);
	CHECK_EQ_STR(a->chall[0].token, "tok");
	acme_authz_free(a);
	/* Duplicate keys are ambiguous: refused. */
	CHECK_EQ_INT(acme_authz_parse(J("{\"status\":\"valid\",\"status\":\"pending\"}"), a),
		     -EINVAL);
	acme_authz_free(a);
	free(o);
	free(a);
}

TEST(problem_and_directory)
{
	struct acme_problem pr;
	struct acme_directory d;
	static const char prob[] =
		"{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
		"\"detail\":\"no\",\"status\":400,\"subproblems\":[{\"type\":"
		"\"urn:ietf:params:acme:error:caa\",\"detail\":\"CAA says no\","
		"\"identifier\":{\"type\":\"dns\",\"value\":\"x.example.com\"}}]}";

	CHECK_EQ_INT(acme_problem_parse(J(prob), &pr), 0);
	CHECK(acme_problem_is(&pr, "rejectedIdentifier"));
	CHECK(!acme_problem_is(&pr, "rejected"));
	CHECK_EQ_INT(pr.status, 400);
	CHECK_EQ_STR(pr.sub, "dns:x.example.com: CAA says no");
	acme_problem_free(&pr);
	CHECK_EQ_INT(acme_directory_parse(J("{\"newNonce\":\"n\",\"newAccount\":\"a\","
					    "\"newOrder\":\"o\",\"meta\":{"
					    "\"externalAccountRequired\":true}}"), &d), 0);
	CHECK(d.eab_required);
	CHECK(d.renewal_info == NULL);
	acme_directory_free(&d);
	CHECK_EQ_INT(acme_directory_parse(J("{\"newNonce\":\"n\"}"), &d), -EINVAL);
	acme_directory_free(&d);
	CHECK_EQ_INT(acme_directory_parse(J("[1,2]"), &d), -EINVAL);
	acme_directory_free(&d);
}

TEST(renewal_info)
{
	struct acme_renewal_info ri;

	CHECK_EQ_INT(acme_renewal_info_parse(J("{\"suggestedWindow\":{\"start\":"
			"\"2025-01-02T00:00:00Z\",\"end\":\"2025-01-03T00:00:00Z\"}}"), &ri), 0);
	CHECK_EQ_INT(ri.end - ri.start, 86400);
	acme_renewal_info_free(&ri);
	/* end before start is not a window */
	CHECK_EQ_INT(acme_renewal_info_parse(J("{\"suggestedWindow\":{\"start\":"
			"\"2025-01-03T00:00:00Z\",\"end\":\"2025-01-02T00:00:00Z\"}}"), &ri),
		     -EINVAL);
	acme_renewal_info_free(&ri);
}

TEST(renew_policy)
{
	CHECK_EQ_INT(acme_renew_fallback(0, 90 * 86400), 60 * 86400);
	/* A past window means now. */
	CHECK_EQ_INT(acme_renew_from_window(100, 200, 500, 12345), 500);
	/* A future window: inside it, whatever the random number. */
	for (uint64_t r = 0; r < 1000; r += 37) {
		int64_t t = acme_renew_from_window(1000, 2000, 10, r * 7919);
		CHECK(t >= 1000 && t < 2000);
	}
	/* A window that started already: not before now. */
	CHECK(acme_renew_from_window(100, 2000, 1500, 0) == 1500);
	CHECK_EQ_U64(acme_renew_backoff(1, 0), 300);
	CHECK_EQ_U64(acme_renew_backoff(2, 0), 600);
	CHECK_EQ_U64(acme_renew_backoff(30, 0), ACME_BACKOFF_MAX_S);
	CHECK_EQ_U64(acme_renew_backoff(1, 3600), 3600);	/* Retry-After wins */
}

TEST(names)
{
	CHECK(acme_name_valid("a.example.com", false));
	CHECK(acme_name_valid("*.example.com", true));
	CHECK(!acme_name_valid("*.example.com", false));
	CHECK(!acme_name_valid("a.*.example.com", true));
	CHECK(!acme_name_valid("Upper.example.com", false));
	CHECK(!acme_name_valid("com", false));
	CHECK(!acme_name_valid("-a.example.com", false));
	CHECK(!acme_name_valid("a-.example.com", false));
	CHECK(!acme_name_valid("a..example.com", false));
	CHECK(!acme_name_valid("a.example.com.", false));
	CHECK(acme_name_covers("*.example.com", "app.example.com"));
	CHECK(!acme_name_covers("*.example.com", "a.b.example.com"));
	CHECK(!acme_name_covers("*.example.com", "example.com"));
	CHECK(acme_name_covers("app.example.com", "APP.example.com"));
	CHECK(acme_name_token_ok("DGyRejmCefe7v4NfDGDKfA_-"));
	CHECK(!acme_name_token_ok("../etc/passwd"));
	CHECK(!acme_name_token_ok(""));
}

/* Signs, then verifies with cjose from the public JWK alone. */
static void check_jws(enum acme_key_type t, const char *alg)
{
	struct acme_key k;
	json_t *j, *prot;
	char *jws, *compact = NULL, *pem;
	cjose_jws_t *in;
	cjose_jwk_t *pub;
	uint8_t h[32];
	char thumb[B64URL_LEN(32)];

	CHECK_EQ_INT(acme_key_generate(t, &k), 0);
	CHECK_EQ_STR(k.alg, alg);
	/* RFC 7638 form: required members only, sorted, no white space. */
	CHECK(strchr(k.jwk_json, ' ') == NULL);
	static const char ec[] = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"";
	static const char rsa[] = "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"";
	CHECK(!strncmp(k.jwk_json, ec, sizeof(ec) - 1) ||
	      !strncmp(k.jwk_json, rsa, sizeof(rsa) - 1));
	CHECK(strstr(k.jwk_json, "\"d\"") == NULL);
	SHA256((const uint8_t *)k.jwk_json, strlen(k.jwk_json), h);
	enc_b64url_encode(thumb, h, 32);
	CHECK_EQ_STR(k.thumb, thumb);
	jws = acme_jws_sign(&k, NULL, "nonce1", "https://ca/new-acct", "{\"a\":1}");
	CHECK(jws != NULL);
	j = json_loads(jws, 0, NULL);
	CHECK(j && asprintf(&compact, "%s.%s.%s",
			    json_string_value(json_object_get(j, "protected")),
			    json_string_value(json_object_get(j, "payload")),
			    json_string_value(json_object_get(j, "signature"))) > 0);
	in = cjose_jws_import(compact, strlen(compact), NULL);
	pub = cjose_jwk_import(k.jwk_json, strlen(k.jwk_json), NULL);
	CHECK(in && pub && cjose_jws_verify(in, pub, NULL));
	char *raw = cjose_header_get_raw(cjose_jws_get_protected(in), "jwk", NULL);
	prot = raw ? json_loads(raw, 0, NULL) : NULL;
	CHECK(prot != NULL);	/* the key travels in the header without kid */
	json_decref(prot);
	free(raw);
	cjose_jws_release(in);
	cjose_jwk_release(pub);
	free(compact);
	json_decref(j);
	free(jws);
	/* PEM round trip keeps the thumbprint. */
	pem = acme_pkey_to_pem(k.pkey);
	struct acme_key k2;
	CHECK_EQ_INT(acme_key_from_pem(pem, strlen(pem), &k2), 0);
	CHECK_EQ_STR(k2.thumb, k.thumb);
	acme_key_free(&k2);
	secure_free(pem, strlen(pem));
	acme_key_free(&k);
}

/* RFC 7638 s3.1: the thumbprint of RFC 7517 appendix A.1's RSA key
 * ("2011-04-29") is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs. The
 * expected value is the RFC's, not this code's output. The private key
 * below is that key (appendix A.2's n and p; q = n/p, the rest derived
 * with Python's cryptography): acme keys are loaded as private keys. */
static const char rfc7517_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDS/HtqCh5sZxBK\n"
	"64+Isldmm032ed2tCZtcSmzZqIAVtaEzvwuFbHhxtt8AC1VPzrPC7VErto8UXG6E\n"
	"NHUvq1Khz8EkQI95tYpFeMFkKIVXifeiSeOEyy2fri1n/Zb7kmwZjgdzmf3IFcCv\n"
	"CX3eWq3v9E3nDoJ/SHhDJDm/7rlgaNBHT8UNbZC/OpjfrxBAyJwC1pKrOzwolmCd\n"
	"hv1zt3TOB0BkfO7qoxC9EvmFqOufWf3UJs6lshIPTyo0vKt2S35sVNaEAji8xAWH\n"
	"pZ5m7R8ziUV3Y1xHCvdc+Swg0dpD4b/EGeIipvDQuzWMXjj5ywUK6v6QSBTxrBqk\n"
	"nMqeoMqDAgMBAAECggEAX4cTteJY/gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoV\n"
	"H+HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT\n"
	"0/YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy/nHNKroADIkJ46pRUohsXywbReAdYaM\n"
	"wFs9tv8d/cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2j\n"
	"x4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL+Us2lG\n"
	"VkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8QKBgQDzeL7si8wZegxcKyS/\n"
	"vdMqvzrfsWI7tnbvO/yiPqltZRDIs9AFDG09WfAPbRH7rR5MOYPa6Ocy3k+ioyub\n"
	"xF+Y2FVYO2OMyYIyM6lJeJwUePtc65UhhDKpVaVYSHp03foZVliT3c3wFz29jjXH\n"
	"LwH1HPM4ZVDNe80S+fs7SdVt+wKBgQDd185H1y5ir7RL6aQUvOAi2AwR8XMHareF\n"
	"Z6Ey4bSgK6qdve+hsvK6aqNVlA7V0it3CBOcJ2ljMFw59bmvfvQAVeOJZ+380YSK\n"
	"i+ieLOEqmj1VVLvxPMWDGQh2t5xF7Oxn7WRh3+zWoNvG2QMSB8AhMAb0tScAO6fi\n"
	"8hxvrJ6XGQKBgBuLD15HOmGvcvKCVvfyC4+MbqabtJc4vx+1U5EvMY+UnV93KBNK\n"
	"IpmMMSItnpkwLntFDmuXaYBRsgSeHPLUNlReNNl0boCg0z/GpGIRaObQAO+0HvzZ\n"
	"rbmGXNwt5tyNuBthr0ebEg8VMgDds6vC35/RFJrOq2Nzm/GHoipE4gY9AoGBALPZ\n"
	"QB/X4IAbKBUfDmnNkfxNoMNvNq09pBjgIbyJZRExNXn6wOoblFLzHwXDKZ/Janlu\n"
	"r8852GOUkkBe6THQv2oCN5xvCG6dQVG9CVIq2kTalHy4XEG/3fRheA4e3u+Fm0bK\n"
	"G0aJ7o02DdcQmj+kzutY71q1/i9fLcV8OPeEP3IJAoGAGyM/p6JrXySiz1toFgKb\n"
	"WV+JdI3jQ4ypu9rbMWx3rQJBfmt0FoYzgUIZEVFEcOqwemRN81zoDAaa+Bk0KWNG\n"
	"DjJHZDdDmFhW3AN7lI+puxk/mHZGJ11rxyR8O55XLSe3SPmRfKwZI6yU24ZxvQKF\n"
	"YItdldUKGzO6Ia6zTKhAVRU=\n"
	"-----END PRIVATE KEY-----\n";

TEST(jwk_thumbprint_rfc7638_vector)
{
	struct acme_key k;

	CHECK_EQ_INT(acme_key_from_pem(rfc7517_key_pem, strlen(rfc7517_key_pem), &k), 0);
	CHECK_EQ_STR(k.thumb, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	CHECK_EQ_STR(k.alg, "RS256");
	acme_key_free(&k);
}

TEST(jws_es256_rs256)
{
	check_jws(ACME_KEY_EC256, "ES256");
	check_jws(ACME_KEY_RSA2048, "RS256");
}

TEST(eab_hs256)
{
	static const char mac[] = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
	struct acme_key k;
	char *eab, *compact = NULL;
	json_t *j;
	uint8_t raw[64];
	long n = enc_b64url_decode(raw, sizeof(raw), mac, strlen(mac));

	CHECK_EQ_INT(acme_key_generate(ACME_KEY_EC256, &k), 0);
	eab = acme_jws_eab(&k, "kid-1", mac, "https://ca/new-acct");
	j = eab ? json_loads(eab, 0, NULL) : NULL;
	CHECK(j && asprintf(&compact, "%s.%s.%s",
			    json_string_value(json_object_get(j, "protected")),
			    json_string_value(json_object_get(j, "payload")),
			    json_string_value(json_object_get(j, "signature"))) > 0);
	cjose_jws_t *in = cjose_jws_import(compact, strlen(compact), NULL);
	cjose_jwk_t *key = cjose_jwk_create_oct_spec(raw, (size_t)n, NULL);
	CHECK(in && key && cjose_jws_verify(in, key, NULL));
	uint8_t *pt;
	size_t ptlen;
	CHECK(cjose_jws_get_plaintext(in, &pt, &ptlen, NULL));
	CHECK(ptlen == strlen(k.jwk_json) && !memcmp(pt, k.jwk_json, ptlen));
	CHECK(acme_jws_eab(&k, "kid-1", "not base64url!", "u") == NULL);
	cjose_jws_release(in);
	cjose_jwk_release(key);
	json_decref(j);
	free(compact);
	free(eab);
	acme_key_free(&k);
}

TEST(key_authz_and_dns01_value)
{
	struct acme_key k;
	char v[B64URL_LEN(32)], *ka;

	CHECK_EQ_INT(acme_key_generate(ACME_KEY_EC256, &k), 0);
	ka = acme_key_authz(&k, "tok");
	CHECK(!strncmp(ka, "tok.", 4) && !strcmp(ka + 4, k.thumb));
	/* RFC 8555 s8.4 example digest shape: 43 base64url chars. */
	acme_dns01_value(ka, v);
	CHECK_EQ_INT(strlen(v), 43);
	free(ka);
	acme_key_free(&k);
}

/* RFC 9773 s4.1 example: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:
 * DE:01:C8:D4, serial 00:87:65:43:21 -> aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE */
TEST(ari_cert_id)
{
	static const uint8_t kid[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40,
				       0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
				       0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
	EVP_PKEY *k = acme_pkey_generate(ACME_KEY_EC256);
	X509 *x = X509_new();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	struct acme_cert_info ci;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;

	akid->keyid = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(akid->keyid, kid, sizeof(kid));
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), 0x87654321);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0);
	X509_sign(x, k, EVP_sha256());
	PEM_write_bio_X509(b, x);
	BIO_write(b, "", 1);
	BIO_get_mem_data(b, &pem);
	CHECK_EQ_INT(acme_cert_info_get(pem, &ci), 0);
	CHECK_EQ_STR(ci.ari_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	CHECK_EQ_INT(ci.not_after - ci.not_before, 3600);
	acme_cert_info_free(&ci);
	BIO_free(b);
	AUTHORITY_KEYID_free(akid);
	X509_free(x);
	EVP_PKEY_free(k);
}

TEST(alpn_cert)
{
	char *cert, *key;
	X509 *x;
	BIO *b;
	uint8_t want[34] = { 0x04, 32 };

	CHECK_EQ_INT(acme_alpn_cert_make("a.example.com", "tok.thumb", &cert, &key), 0);
	CHECK_EQ_INT(acme_cert_key_match(cert, key), 0);
	b = BIO_new_mem_buf(cert, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	int at = X509_get_ext_by_OBJ(x, oid, -1);
	X509_EXTENSION *ext = X509_get_ext(x, at);
	CHECK(at >= 0 && X509_EXTENSION_get_critical(ext));
	SHA256((const uint8_t *)"tok.thumb", 9, want + 2);
	ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(ext);
	CHECK(ASN1_STRING_length(d) == 34 && !memcmp(ASN1_STRING_get0_data(d), want, 34));
	CHECK(X509_check_host(x, "a.example.com", 0, 0, NULL) == 1);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	BIO_free(b);
	free(cert);
	secure_free(key, strlen(key));
}

TEST(chall_store)
{
	struct acme_chall cs;
	char out[256];

	acme_chall_init(&cs);

	CHECK_EQ_INT(acme_chall_http_put(&cs, "tok1", "tok1.thumb"), 0);
	CHECK_EQ_INT(acme_chall_http_put(&cs, "../x", "x"), -EINVAL);
	CHECK_EQ_INT(acme_chall_http_lookup(&cs, J("/.well-known/acme-challenge/tok1"), out,
					    sizeof(out)), 10);
	CHECK_EQ_STR(out, "tok1.thumb");
	CHECK_EQ_INT(acme_chall_http_lookup(&cs, J("/.well-known/acme-challenge/TOK1"), out,
					    sizeof(out)), -ENOENT);
	CHECK_EQ_INT(acme_chall_http_lookup(&cs, J("/index.html"), out, sizeof(out)), 0);
	acme_chall_http_del(&cs, "tok1");
	CHECK_EQ_INT(acme_chall_http_lookup(&cs, J("/.well-known/acme-challenge/tok1"), out,
					    sizeof(out)), -ENOENT);
	unsigned long g = acme_chall_alpn_generation(&cs);
	char *c, *k;
	CHECK_EQ_INT(acme_chall_alpn_put(&cs, "a.example.com", "CERT", "KEY"), 0);
	CHECK(acme_chall_alpn_generation(&cs) != g);
	CHECK_EQ_INT(acme_chall_alpn_get(&cs, "A.Example.com", &c, &k), 0);
	CHECK_EQ_STR(c, "CERT");
	free(c);
	free(k);
	acme_chall_alpn_del(&cs, "a.example.com");
	CHECK_EQ_INT(acme_chall_alpn_get(&cs, "a.example.com", &c, &k), -ENOENT);
	/* A second store is apart from the first. */
	struct acme_chall other;
	acme_chall_init(&other);
	CHECK_EQ_INT(acme_chall_http_put(&cs, "tok2", "tok2.thumb"), 0);
	CHECK_EQ_INT(acme_chall_http_lookup(&other, J("/.well-known/acme-challenge/tok2"), out,
					    sizeof(out)), -ENOENT);
	acme_chall_fini(&other);
	acme_chall_fini(&cs);	/* frees tok2 (ASan: no leak) */
}

/* An answer as a server sends it, read by dns_answer_parse (ldns). */
TEST(dns_answer)
{
	static const uint8_t hdr[] = { 0x12, 0x34, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0 };
	static const uint8_t qn[] = "\x0f_acme-challenge\x07""example\x03""com";
	static const uint8_t tail[] = { 0, 0, 16, 0, 1,
		/* a compressed TXT record pointing back at the question */
		0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6, 5, 'h', 'e', 'l', 'l', 'o' };
	uint8_t m[128];
	size_t n = 0;
	struct dns_answer a;

	memcpy(m, hdr, sizeof(hdr));
	n += sizeof(hdr);
	memcpy(m + n, qn, sizeof(qn) - 1);
	n += sizeof(qn) - 1;
	memcpy(m + n, tail, sizeof(tail));
	n += sizeof(tail);
	CHECK_EQ_INT(dns_answer_parse(m, n, 0x1234, "_ACME-challenge.example.com",
				      DNS_T_TXT, &a), 0);
	CHECK_EQ_INT(a.n_answer, 1);
	CHECK(a.aa);
	CHECK(dns_answer_has_txt(&a, "_acme-challenge.example.com", "hello"));
	CHECK(!dns_answer_has_txt(&a, "_acme-challenge.example.com", "hell"));
	/* Wrong id, another question, a pointer loop and a cut message are
	 * refused. */
	CHECK_EQ_INT(dns_answer_parse(m, n, 0x1235, "_acme-challenge.example.com",
				      DNS_T_TXT, &a), -EINVAL);
	CHECK_EQ_INT(dns_answer_parse(m, n, 0x1234, "example.com", DNS_T_TXT, &a),
		     -EINVAL);
	CHECK_EQ_INT(dns_answer_parse(m, n - 1, 0x1234, "_acme-challenge.example.com",
				      DNS_T_TXT, &a), -EINVAL);
	m[12 + sizeof(qn) - 1 + 5 + 1] = (uint8_t)(12 + sizeof(qn) - 1 + 5);
	CHECK_EQ_INT(dns_answer_parse(m, n, 0x1234, "_acme-challenge.example.com",
				      DNS_T_TXT, &a), -EINVAL);
}

/* A one-shot TCP server on loopback: accepts one connection and hands it
 * to `serve`, on its own thread. */
struct oneshot {
	int fd;
	uint16_t port;
	pthread_t th;
	void (*serve)(int c, void *arg);
	void *arg;
};

static void *oneshot_run(void *ud)
{
	struct oneshot *o = ud;
	int c = accept(o->fd, NULL, NULL);

	if (c >= 0) {
		o->serve(c, o->arg);
		close(c);
	}
	return NULL;
}

static int oneshot_start(struct oneshot *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	o->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (o->fd < 0 || bind(o->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(o->fd, 1) || getsockname(o->fd, (struct sockaddr *)&sa, &sl))
		return -1;
	o->port = ntohs(sa.sin_port);
	return pthread_create(&o->th, NULL, oneshot_run, o) ? -1 : 0;
}

static void oneshot_stop(struct oneshot *o)
{
	pthread_join(o->th, NULL);
	close(o->fd);
}

/* A DNS server that answers a message with its own header turned into a
 * reply with rcode *arg, unsigned: what a forger (or a server that
 * rejected the key) sends. */
static void dns_fake_serve(int c, void *arg)
{
	uint8_t req[2048], resp[14] = { 0, 12 };
	size_t n = 0;
	ssize_t r;

	while (n < 14 && (r = read(c, req + n, sizeof(req) - n)) > 0)
		n += (size_t)r;
	if (n < 14)
		return;
	memcpy(resp + 2, req + 2, 2);			/* id */
	resp[4] = (uint8_t)(0x80 | (req[4] & 0x78));	/* QR, opcode */
	resp[5] = *(uint8_t *)arg;
	if (write(c, resp, sizeof(resp)) < 0)
		return;
}

static int dns_fake_update(uint8_t rcode, bool signed_, char *err, size_t errlen)
{
	struct oneshot o = { .serve = dns_fake_serve, .arg = &rcode };
	char server[32];
	int rc;

	if (oneshot_start(&o))
		return -100;
	snprintf(server, sizeof(server), "127.0.0.1:%u", o.port);
	struct dns_update u = {
		.server = server, .zone = "example.com",
		.fqdn = "_acme-challenge.example.com", .value = "v", .ttl = 30,
		.add = true, .tsig_name = signed_ ? "postern-key" : NULL,
		.tsig_secret = "cG9zdGVybi1yZmMyMTM2LXRlc3Qtc2VjcmV0LTAxMjM=",
		.timeout_ms = 5000,
	};
	rc = dns_update(&u, err, errlen);
	oneshot_stop(&o);
	return rc;
}

/* A signed update trusts no unsigned success; an unsigned error still
 * names its rcode. Unsigned updates take the server's word. */
TEST(dns_update_tsig_reply)
{
	char err[256];

	CHECK_EQ_INT(dns_fake_update(0, true, err, sizeof(err)), -EPROTO);
	CHECK(strstr(err, "TSIG") != NULL);
	CHECK_EQ_INT(dns_fake_update(9, true, err, sizeof(err)), 9);	/* NOTAUTH */
	CHECK_EQ_INT(dns_fake_update(0, false, err, sizeof(err)), 0);
}

TEST(dns_server_parse)
{
	struct sockaddr_storage sa;
	unsigned len;

	CHECK_EQ_INT(dns_server_parse("10.0.0.1", &sa, &len), 0);
	CHECK_EQ_INT(dns_server_parse("10.0.0.1:8053", &sa, &len), 0);
	CHECK_EQ_INT(dns_server_parse("[::1]:53", &sa, &len), 0);
	CHECK_EQ_INT(dns_server_parse("::1", &sa, &len), 0);
	CHECK_EQ_INT(dns_server_parse("10.0.0.1:0", &sa, &len), -EINVAL);
	CHECK_EQ_INT(dns_server_parse("ns1.example.com", &sa, &len), -EINVAL);
}

/* An HTTP server that answers with the request head it received as the
 * body, so a test sees what libcurl sent. */
static void echo_serve(int c, void *arg)
{
	char req[8192], resp[128];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(req) - 1 && !memmem(req, n, "\r\n\r\n", 4) &&
	       (r = read(c, req + n, sizeof(req) - 1 - n)) > 0)
		n += (size_t)r;
	int hl = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: "
			  "%zu\r\nConnection: close\r\n\r\n", n);
	if (write(c, resp, (size_t)hl) < 0 || write(c, req, n) < 0)
		return;
}

/* Sends one SigV4 request through acme_http with the test suite's fixed
 * date and host, and copies the Authorization header libcurl computed. */
static int sigv4_send(const char *method, const char *body, char *auth,
		      size_t cap)
{
	static const char *const hdrs[] = { "X-Amz-Date: 20150830T123600Z",
					    "Host: example.amazonaws.com", NULL };
	struct oneshot e = { .serve = echo_serve };
	struct acme_http h;
	struct acme_http_resp r;
	char url[64], err[256];
	const char *a, *end;
	int rc = -1;

	if (acme_http_init(&h, NULL, 10000))
		return -1;
	if (oneshot_start(&e)) {
		acme_http_free(&h);
		return -1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", e.port);
	struct acme_http_req req = {
		.method = method, .url = url, .headers = hdrs, .body = body,
		.body_len = body ? strlen(body) : 0,
		.aws_sigv4 = "aws:amz:us-east-1:service",
		.aws_key_id = "AKIDEXAMPLE",
		.aws_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};
	if (acme_http_do(&h, &req, &r, err, sizeof(err)) == 0) {
		buf_append(&r.body, "", 1);
		a = strstr((const char *)buf_head(&r.body), "\r\nAuthorization: ");
		end = a ? strstr(a + 2, "\r\n") : NULL;
		if (end) {
			snprintf(auth, cap, "%.*s", (int)(end - a - 2), a + 2);
			rc = 0;
		}
		acme_http_resp_free(&r);
	}
	acme_http_free(&h);
	oneshot_stop(&e);
	return rc;
}

/* The AWS SigV4 test suite's "get-vanilla" and "post-vanilla" cases,
 * signed by libcurl as Route 53 requests are. */
TEST(sigv4_vanilla)
{
	char auth[300];

	CHECK_EQ_INT(sigv4_send("GET", NULL, auth, sizeof(auth)), 0);
	CHECK_EQ_STR(auth, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
		     "20150830/us-east-1/service/aws4_request, SignedHeaders=host;"
		     "x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
		     "2260956d9b8aae1d763fbf31");
	CHECK_EQ_INT(sigv4_send("POST", "", auth, sizeof(auth)), 0);
	CHECK_EQ_STR(auth, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
		     "20150830/us-east-1/service/aws4_request, SignedHeaders=host;"
		     "x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c3086"
		     "2966e37dddb68e92efbe5d6b");
}

TEST(r53_xml)
{
	static const char err[] =
		"<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53."
		"amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>"
		"SignatureDoesNotMatch</Code><Message>a &amp; &lt;b&gt;</Message>"
		"</Error><RequestId>1</RequestId></ErrorResponse>";
	static const char zone[] =
		"<L xmlns=\"x\"><HostedZones><HostedZone><Config><Comment>c</Comment>"
		"</Config><Id>/hostedzone/Z1</Id><Name>example.com.</Name></HostedZone>"
		"<HostedZone><Id>/hostedzone/Z2</Id></HostedZone></HostedZones>"
		"<DNSName>example.com</DNSName></L>";
	static const char change[] = "<R><ChangeInfo><Id>/change/C1</Id><Status>"
				     "INSYNC</Status></ChangeInfo></R>";
	static const char laughs[] =
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\">]><r>&a;</r>";
	struct r53_answer a;
	char big[R53_XML_MAX + 2];

	CHECK_EQ_INT(r53_xml_parse(J(err), &a), 0);
	CHECK_EQ_STR(a.code, "SignatureDoesNotMatch");
	CHECK_EQ_STR(a.message, "a & <b>");
	CHECK_EQ_INT(r53_xml_parse(J(zone), &a), 0);
	CHECK_EQ_STR(a.zone_id, "/hostedzone/Z1");
	CHECK_EQ_STR(a.zone_name, "example.com.");
	CHECK_EQ_STR(a.code, "");
	CHECK_EQ_INT(r53_xml_parse(J(change), &a), 0);
	CHECK_EQ_STR(a.change_id, "/change/C1");
	CHECK_EQ_STR(a.status, "INSYNC");
	CHECK_EQ_INT(r53_xml_parse(J("<R><ChangeInfo><Id>x<b/></Id></ChangeInfo></R>"),
				   &a), -EINVAL);
	CHECK_EQ_INT(r53_xml_parse(J("<R><ChangeInfo><Id>x</ChangeInfo></R>"), &a),
		     -EINVAL);
	CHECK_EQ_INT(r53_xml_parse(J(laughs), &a), -EINVAL);
	CHECK_EQ_INT(r53_xml_parse(J("<R><ChangeInfo><Status>INSYNC-AND-MORE-THAN-"
				     "THIRTY-TWO-BYTES</Status></ChangeInfo></R>"),
				   &a), -ENOBUFS);
	memset(big, ' ', sizeof(big));
	CHECK_EQ_INT(r53_xml_parse(big, sizeof(big), &a), -EMSGSIZE);
}

TEST(provider_settings)
{
	struct dns_provider *p;
	char err[256];
	const char *ok[] = { "api_token", "t", "ttl", "120", NULL };
	const char *unknown[] = { "api_token", "t", "tokn", "x", NULL };
	const char *missing[] = { "zone", "example.com", NULL };

	CHECK_EQ_INT(dns_provider_new("cloudflare", ok, NULL, &p, err, sizeof(err)), 0);
	CHECK_EQ_INT(p->ttl, 120);
	CHECK_EQ_STR(p->url, "https://api.cloudflare.com/client/v4");
	dns_provider_free(p);
	CHECK_EQ_INT(dns_provider_new("cloudflare", unknown, NULL, &p, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_STR(err, "cloudflare: unknown setting 'tokn'");
	CHECK_EQ_INT(dns_provider_new("hetzner", missing, NULL, &p, err, sizeof(err)),
		     -EINVAL);
	CHECK_EQ_STR(err, "hetzner: missing setting 'api_token'");
	CHECK_EQ_INT(dns_provider_new("godaddy", ok, NULL, &p, err, sizeof(err)), -EINVAL);
	struct dns_record r = { .fqdn = "_acme-challenge.www.example.com",
				.zone = "example.com" };
	dns_record_relative(&r, err, sizeof(err));
	CHECK_EQ_STR(err, "_acme-challenge.www");
}

int main(void)
{
	RUN(time_parse);
	RUN(order_and_authz_parse);
	RUN(problem_and_directory);
	RUN(renewal_info);
	RUN(renew_policy);
	RUN(names);
	RUN(jwk_thumbprint_rfc7638_vector);
	RUN(jws_es256_rs256);
	RUN(eab_hs256);
	RUN(key_authz_and_dns01_value);
	RUN(ari_cert_id);
	RUN(alpn_cert);
	RUN(chall_store);
	RUN(dns_answer);
	RUN(dns_server_parse);
	RUN(dns_update_tsig_reply);
	RUN(sigv4_vanilla);
	RUN(r53_xml);
	RUN(provider_settings);
	return unit_done();
}
