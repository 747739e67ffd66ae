/* test_wg_noise.c - the Noise_IKpsk2 handshake: a known-answer run against
 * an independent computation (tests/vectors/wg_handshake.py), replay and
 * flood protection, and tampering. */
#include <errno.h>

#include "unit.h"
#include "wg_test_util.h"

#include "../../src/wg/noise.c"
#include "wg/cookie.h"
#include "wg/proto.h"

/* Output of tests/vectors/wg_handshake.py. */
static const char kat_initiation_hex[] =
	"010000004433221123b7bb8c91ae008711fb12846780bcdf1e065f821bdfec49"
	"f57e7c7dcd4c48237c9f087a47c7776566936c12f69cdefeb0172eed5225b21f"
	"fd5b64d7cbdcc06f5db9067ffb754a97052851ac628edb82dd2c601dbc2df936"
	"6928bd96acdc655a484645e0c1d3d2adb31666ec9760a82e3d500ef66d6c356a"
	"fc83488100000000000000000000000000000000";
static const char kat_response_hex[] =
	"020000008877665544332211605a725d2a4adfeeb1a29e17edd621c1b7593ee8"
	"cdbc44ac6c4ab6e2f805d23ca1b44fb046cce67600692e138037beefed0895cb"
	"8f17787f6413d169171e416100000000000000000000000000000000";
static const char kat_data_hex[] =
	"040000008877665500000000000000009d87821c332940cc68f5b168b9d3e1c0"
	"0bf80f3d3d3cb50f6dda5cf4346c9e43";
static const char kat_send_i_hex[] =
	"24538fbb2f7b0840790ff8bf90b1ba327f60abf80e70035d8814528477206e03";
static const char kat_recv_i_hex[] =
	"5d2d3fc0fc221c39f0fa4884d050609578db6fd101c6eaf565603d96f46ac756";

/* The reference's bytes, decoded from the hex above by kat_load(). */
static uint8_t kat_initiation[148], kat_response[92], kat_data[48];
static uint8_t kat_send_i[32], kat_recv_i[32];

static void kat_unhex(uint8_t *out, size_t len, const char *hex)
{
	CHECK_EQ_INT(strlen(hex), 2 * len);
	CHECK_EQ_INT(enc_hex_decode(out, len, hex, strlen(hex)), 0);
}

static void kat_load(void)
{
	kat_unhex(kat_initiation, sizeof(kat_initiation), kat_initiation_hex);
	kat_unhex(kat_response, sizeof(kat_response), kat_response_hex);
	kat_unhex(kat_data, sizeof(kat_data), kat_data_hex);
	kat_unhex(kat_send_i, sizeof(kat_send_i), kat_send_i_hex);
	kat_unhex(kat_recv_i, sizeof(kat_recv_i), kat_recv_i_hex);
}

static const uint8_t kat_tai[12] = { 0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0,
				     0x0c, 0, 0, 0 };

struct pair {
	struct wg_noise_local li, lr;		/* initiator, responder */
	struct wg_handshake hi, hr;
	uint8_t psk[32];
};

static void local_set(struct wg_noise_local *l, uint8_t start)
{
	seq32(l->priv, start);
	CHECK_EQ_INT(wg_x25519_public(l->pub, l->priv), 0);
	l->has_key = true;
}

static void pair_init(struct pair *p)
{
	CHECK_EQ_INT(wg_crypto_init(), 0);
	local_set(&p->li, 0x10);
	local_set(&p->lr, 0x40);
	seq32(p->psk, 0xd0);
	wg_noise_handshake_init(&p->hi, p->lr.pub);
	wg_noise_handshake_init(&p->hr, p->li.pub);
	memcpy(p->hi.psk, p->psk, 32);
	memcpy(p->hr.psk, p->psk, 32);
	wg_noise_precompute(&p->hi, &p->li);
	wg_noise_precompute(&p->hr, &p->lr);
	CHECK(p->hi.ss_valid && p->hr.ss_valid);
	CHECK_EQ_MEM(p->hi.ss, p->hr.ss, 32);
}

static void add_mac1(uint8_t *msg, size_t len, const uint8_t pub[32])
{
	struct wg_cookie_maker m = { 0 };

	CHECK_EQ_INT(wg_cookie_maker_init(&m, pub), 0);
	CHECK_EQ_INT(wg_cookie_add_macs(&m, msg, len, 0), 0);
	wg_cookie_maker_free(&m);
}

TEST(handshake_known_answer)
{
	struct pair p;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_noise_pending pend;
	uint8_t e[32], si[32], ri[32], sr[32], rr[32], data[48];
	bool initiator;

	kat_load();
	pair_init(&p);
	seq32(e, 0x70);
	CHECK_EQ_INT(noise_initiation_create_e(&p.hi, &p.li, &init, 0x11223344,
					       kat_tai, e), 0);
	add_mac1((uint8_t *)&init, sizeof(init), p.lr.pub);
	CHECK_EQ_MEM(&init, kat_initiation, sizeof(init));
	CHECK_EQ_INT(p.hi.state, WG_HS_CREATED_INITIATION);

	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &init, &pend), 0);
	CHECK_EQ_MEM(pend.remote_static, p.li.pub, 32);
	CHECK_EQ_INT(pend.sender, 0x11223344);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &init, &pend, 1000), 0);
	CHECK_EQ_MEM(p.hr.latest_timestamp, kat_tai, 12);
	seq32(e, 0xa0);
	CHECK_EQ_INT(noise_response_create_e(&p.hr, &p.lr, &resp, 0x55667788, e), 0);
	add_mac1((uint8_t *)&resp, sizeof(resp), p.li.pub);
	CHECK_EQ_MEM(&resp, kat_response, sizeof(resp));

	CHECK_EQ_INT(wg_noise_response_consume(&p.hi, &p.li, &resp), 0);
	CHECK_EQ_INT(p.hi.remote_index, 0x55667788);
	CHECK_EQ_INT(wg_noise_derive(&p.hi, si, ri, &initiator), 0);
	CHECK(initiator);
	CHECK_EQ_MEM(si, kat_send_i, 32);
	CHECK_EQ_MEM(ri, kat_recv_i, 32);
	CHECK_EQ_INT(wg_noise_derive(&p.hr, sr, rr, &initiator), 0);
	CHECK(!initiator);
	CHECK_EQ_MEM(sr, ri, 32);
	CHECK_EQ_MEM(rr, si, 32);
	/* Derivation clears the handshake. */
	CHECK_EQ_INT(p.hi.state, WG_HS_ZEROED);
	CHECK_EQ_INT(wg_noise_derive(&p.hi, si, ri, &initiator), -EINVAL);

	/* The first transport message, as the reference encrypted it. */
	memcpy(data, kat_data, 16);
	CHECK_EQ_INT(wg_aead_seal(data + 16, (const uint8_t *)"hello, wireguard",
				  16, 0, kat_send_i, NULL, 0), 0);
	CHECK_EQ_MEM(data, kat_data, sizeof(data));
}

TEST(initiation_replay_and_flood)
{
	struct pair p;
	struct wg_msg_initiation a, b;
	struct wg_noise_pending pend;
	uint8_t t1[12], t2[12];
	uint64_t now = 5 * NSEC_PER_SEC;

	pair_init(&p);
	wg_noise_tai64n(t1, 1700000000ULL * NSEC_PER_SEC);
	wg_noise_tai64n(t2, 1700000001ULL * NSEC_PER_SEC);
	CHECK(memcmp(t1, t2, 12) < 0);
	CHECK_EQ_INT(wg_noise_initiation_create(&p.hi, &p.li, &a, 1, t1), 0);
	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &a, &pend), 0);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &a, &pend, now), 0);
	/* The same message again (a replay) is refused, even much later. */
	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &a, &pend), 0);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &a, &pend,
						now + 60 * NSEC_PER_SEC), -EALREADY);
	/* A newer one inside 20 ms is a flood; after 20 ms it is fine. */
	CHECK_EQ_INT(wg_noise_initiation_create(&p.hi, &p.li, &b, 2, t2), 0);
	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &b, &pend), 0);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &b, &pend,
						now + 19 * NSEC_PER_MSEC), -EALREADY);
	CHECK_EQ_INT(p.hr.remote_index, 1);
	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &b, &pend), 0);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &b, &pend,
						now + 21 * NSEC_PER_MSEC), 0);
	CHECK_EQ_INT(p.hr.remote_index, 2);
	/* TAI64N resolution is coarse (2^24 ns). */
	wg_noise_tai64n(t1, 1700000000ULL * NSEC_PER_SEC + 1000);
	wg_noise_tai64n(t2, 1700000000ULL * NSEC_PER_SEC);
	CHECK_EQ_MEM(t1, t2, 12);
}

TEST(wrong_psk_and_wrong_keys_fail_without_change)
{
	struct pair p;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_noise_pending pend;
	struct wg_noise_local other;
	struct wg_handshake saved;
	uint8_t t[12];

	pair_init(&p);
	wg_noise_tai64n(t, 1700000000ULL * NSEC_PER_SEC);
	p.hr.psk[0] ^= 1;
	CHECK_EQ_INT(wg_noise_initiation_create(&p.hi, &p.li, &init, 7, t), 0);
	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &init, &pend), 0);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &init, &pend, 1), 0);
	CHECK_EQ_INT(wg_noise_response_create(&p.hr, &p.lr, &resp, 8), 0);
	saved = p.hi;
	CHECK_EQ_INT(wg_noise_response_consume(&p.hi, &p.li, &resp), -EBADMSG);
	CHECK_EQ_MEM(&saved, &p.hi, sizeof(saved));
	/* A responder with another key cannot read the initiation. */
	local_set(&other, 0x55);
	CHECK_EQ_INT(wg_noise_initiation_open(&other, &init, &pend), -EBADMSG);
	/* A response in the wrong state is refused. */
	CHECK_EQ_INT(wg_noise_response_consume(&p.hr, &p.lr, &resp), -EINVAL);
	CHECK_EQ_INT(wg_noise_response_create(&p.hi, &p.li, &resp, 1), -EINVAL);
}

TEST(tampered_initiation_fields)
{
	struct pair p;
	struct wg_msg_initiation init, bad;
	struct wg_noise_pending pend;
	struct wg_handshake saved;
	uint8_t t[12];

	pair_init(&p);
	wg_noise_tai64n(t, 1700000000ULL * NSEC_PER_SEC);
	CHECK_EQ_INT(wg_noise_initiation_create(&p.hi, &p.li, &init, 7, t), 0);
	saved = p.hr;
	/* Every byte of ephemeral, static and timestamp is authenticated. */
	for (size_t off = 8; off < 116; off += 5) {
		bad = init;
		((uint8_t *)&bad)[off] ^= 0x20;
		int r = wg_noise_initiation_open(&p.lr, &bad, &pend);
		if (r == 0)
			r = wg_noise_initiation_finish(&p.hr, &bad, &pend, 1);
		if (r == 0)
			UNIT_FAIL("flipped byte %zu accepted", off);
	}
	CHECK_EQ_MEM(&saved, &p.hr, sizeof(saved));
}

int main(void)
{
	RUN(handshake_known_answer);
	RUN(initiation_replay_and_flood);
	RUN(wrong_psk_and_wrong_keys_fail_without_change);
	RUN(tampered_initiation_fields);
	return unit_done();
}
