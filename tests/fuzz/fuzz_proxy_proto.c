/*
 * fuzz_proxy_proto.c - libFuzzer target for server/proto/proxy_proto.h:
 * one input is the first bytes a load balancer sends. The first byte picks
 * the accepted versions (v1, v2, both). Checks that a "done" header never
 * claims more bytes than given (v1 at most 107), that the answer for every
 * prefix is "more" or the same verdict (no header accepted that a shorter
 * read would have refused), and that an error always has a reason.
 *
 * Does not: check the addresses' values (tests/unit/test_proxy_proto.c).
 */
#include "proxy_proto.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_proto_header h;
	const char *reason;
	enum proxy_proto_result r, rp;
	unsigned mask;

	if (size < 1)
		return 0;
	mask = (data[0] % 3) + 1;
	data++, size--;
	r = proxy_proto_parse(data, size, mask, &h, &reason);
	if (r == PROXY_PROTO_ERROR && reason == NULL)
		abort();
	if (r == PROXY_PROTO_DONE) {
		if (h.consumed > size || h.consumed == 0)
			abort();
		if (h.version == 1 && h.consumed > PROXY_PROTO_V1_MAX)
			abort();
		if (h.version != 1 && h.version != 2)
			abort();
	}
	/* a few prefixes: never a different final verdict before the end */
	for (size_t n = 0; n < size && n < 128; n++) {
		rp = proxy_proto_parse(data, n, mask, &h, &reason);
		if (rp == PROXY_PROTO_MORE)
			continue;
		if (rp != r &&
		    !(rp == PROXY_PROTO_DONE && r == PROXY_PROTO_DONE))
			abort();
		break;
	}
	return 0;
}
