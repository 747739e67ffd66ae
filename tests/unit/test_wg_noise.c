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
static const uint8_t kat_initiation[148] = {
	0x01, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11, 0x23, 0xb7, 0xbb, 0x8c,
	0x91, 0xae, 0x00, 0x87, 0x11, 0xfb, 0x12, 0x84, 0x67, 0x80, 0xbc, 0xdf,
	0x1e, 0x06, 0x5f, 0x82, 0x1b, 0xdf, 0xec, 0x49, 0xf5, 0x7e, 0x7c, 0x7d,
	0xcd, 0x4c, 0x48, 0x23, 0x7c, 0x9f, 0x08, 0x7a, 0x47, 0xc7, 0x77, 0x65,
	0x66, 0x93, 0x6c, 0x12, 0xf6, 0x9c, 0xde, 0xfe, 0xb0, 0x17, 0x2e, 0xed,
	0x52, 0x25, 0xb2, 0x1f, 0xfd, 0x5b, 0x64, 0xd7, 0xcb, 0xdc, 0xc0, 0x6f,
	0x5d, 0xb9, 0x06, 0x7f, 0xfb, 0x75, 0x4a, 0x97, 0x05, 0x28, 0x51, 0xac,
	0x62, 0x8e, 0xdb, 0x82, 0xdd, 0x2c, 0x60, 0x1d, 0xbc, 0x2d, 0xf9, 0x36,
	0x69, 0x28, 0xbd, 0x96, 0xac, 0xdc, 0x65, 0x5a, 0x48, 0x46, 0x45, 0xe0,
	0xc1, 0xd3, 0xd2, 0xad, 0xb3, 0x16, 0x66, 0xec, 0x97, 0x60, 0xa8, 0x2e,
	0x3d, 0x50, 0x0e, 0xf6, 0x6d, 0x6c, 0x35, 0x6a, 0xfc, 0x83, 0x48, 0x81,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
static const uint8_t kat_response[92] = {
	0x02, 0x00, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	0x60, 0x5a, 0x72, 0x5d, 0x2a, 0x4a, 0xdf, 0xee, 0xb1, 0xa2, 0x9e, 0x17,
	0xed, 0xd6, 0x21, 0xc1, 0xb7, 0x59, 0x3e, 0xe8, 0xcd, 0xbc, 0x44, 0xac,
	0x6c, 0x4a, 0xb6, 0xe2, 0xf8, 0x05, 0xd2, 0x3c, 0xa1, 0xb4, 0x4f, 0xb0,
	0x46, 0xcc, 0xe6, 0x76, 0x00, 0x69, 0x2e, 0x13, 0x80, 0x37, 0xbe, 0xef,
	0xed, 0x08, 0x95, 0xcb, 0x8f, 0x17, 0x78, 0x7f, 0x64, 0x13, 0xd1, 0x69,
	0x17, 0x1e, 0x41, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t kat_data[48] = {
	0x04, 0x00, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x9d, 0x87, 0x82, 0x1c, 0x33, 0x29, 0x40, 0xcc,
	0x68, 0xf5, 0xb1, 0x68, 0xb9, 0xd3, 0xe1, 0xc0, 0x0b, 0xf8, 0x0f, 0x3d,
	0x3d, 0x3c, 0xb5, 0x0f, 0x6d, 0xda, 0x5c, 0xf4, 0x34, 0x6c, 0x9e, 0x43,
};
static const uint8_t kat_send_i[32] = {
	0x24, 0x53, 0x8f, 0xbb, 0x2f, 0x7b, 0x08, 0x40, 0x79, 0x0f, 0xf8, 0xbf,
	0x90, 0xb1, 0xba, 0x32, 0x7f, 0x60, 0xab, 0xf8, 0x0e, 0x70, 0x03, 0x5d,
	0x88, 0x14, 0x52, 0x84, 0x77, 0x20, 0x6e, 0x03,
};
static const uint8_t kat_recv_i[32] = {
	0x5d, 0x2d, 0x3f, 0xc0, 0xfc, 0x22, 0x1c, 0x39, 0xf0, 0xfa, 0x48, 0x84,
	0xd0, 0x50, 0x60, 0x95, 0x78, 0xdb, 0x6f, 0xd1, 0x01, 0xc6, 0xea, 0xf5,
	0x65, 0x60, 0x3d, 0x96, 0xf4, 0x6a, 0xc7, 0x56,
};

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
