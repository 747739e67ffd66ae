/* fuzz_tun_gso.c - the TUN super-packet segmenter and the TCP coalescer
 * on any bytes.
 *
 * Byte 0 even: bytes 1..10 are a virtio_net_hdr, the rest one packet read
 * from the TUN; every segment must fit the packet buffer. Byte 0 odd: the
 * rest is a list of [2-byte length][packet] handed to the coalescer (TCP
 * and UDP merging on); each
 * super-packet it emits must segment back into as many packets as it
 * carried, with the same lengths and payloads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg/pkt.h"
#include "wg/tun_gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEG_MAX 1500

static uint8_t seg[SEG_MAX];
static const uint8_t *inputs[PKT_BATCH];
static size_t input_len[PKT_BATCH];
static unsigned emitted;

static void fz_split(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr h;
	struct gso_split s;
	size_t n;
	unsigned count = 0;

	if (size < sizeof(h))
		return;
	memcpy(&h, data, sizeof(h));
	if (tun_gso_split_init(&s, &h, data + sizeof(h), size - sizeof(h), SEG_MAX) < 0)
		return;
	while ((n = tun_gso_split_next(&s, seg)) > 0) {
		if (n > SEG_MAX)
			abort();
		count++;
	}
	if (count != s.nseg)
		abort();
}

static int fz_emit(void *ctx, const struct iovec *iov, int iovcnt, unsigned npkts)
{
	static uint8_t super[GSO_MAX_PACKET + 64];
	struct virtio_net_hdr h;
	struct gso_split s;
	size_t len = 0, n;

	(void)ctx;
	memcpy(&h, iov[0].iov_base, sizeof(h));
	for (int i = 1; i < iovcnt; i++) {
		if (len + iov[i].iov_len > sizeof(super))
			abort();
		memcpy(super + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (len > GSO_MAX_PACKET)
		abort();
	if (npkts == 1) {
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			abort();
		emitted++;
		return 0;
	}
	if (tun_gso_split_init(&s, &h, super, len, SEG_MAX) < 0 || s.nseg != npkts)
		abort();
	for (unsigned i = 0; i < npkts; i++) {
		n = tun_gso_split_next(&s, seg);
		if (n == 0 || n < s.hdrlen)
			abort();
		/* Compare the payload with some input of that exact length. */
		int found = 0;
		for (unsigned k = 0; k < PKT_BATCH && inputs[k] && !found; k++)
			found = input_len[k] == n &&
				!memcmp(inputs[k] + s.hdrlen, seg + s.hdrlen, n - s.hdrlen);
		if (!found)
			abort();
	}
	emitted += npkts;
	return 0;
}

static void fz_gro(const uint8_t *data, size_t size)
{
	static struct gro g;
	unsigned n = 0;

	memset(inputs, 0, sizeof(inputs));
	while (size >= 2 && n < PKT_BATCH) {
		size_t len = (size_t)(data[0] << 8 | data[1]);
		data += 2, size -= 2;
		if (len > size)
			len = size;
		inputs[n] = data;
		input_len[n++] = len;
		data += len, size -= len;
	}
	emitted = 0;
	tun_gro_init(&g, true, fz_emit, NULL);
	tun_gro_set_udp(&g, true);
	for (unsigned i = 0; i < n; i++)
		tun_gro_add(&g, inputs[i], input_len[i]);
	tun_gro_flush(&g);
	if (emitted != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fz_gro(data + 1, size - 1);
	else
		fz_split(data + 1, size - 1);
	return 0;
}
