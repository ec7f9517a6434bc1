// SPDX-License-Identifier: GPL-2.0
/*
 * What klbd's peers and clients send: the fuzz input is a byte stream of
 * peer frames, split as the transport splits it and decoded with and
 * without a session key; every frame's payload also goes to the command
 * and snapshot decoders. Whatever a decoder accepts must encode back to
 * the same bytes (commands, snapshots of today's version); a snapshot of
 * an older version encodes in today's, which must then be stable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klbd/frame.h"
#include "klbd/state.h"
#include "lib/klbd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "klbd_frame: %s\n", what);
		abort();
	}
}

/* A snapshot of today's version decodes and encodes back to itself. */
static void stable(const uint8_t *p, size_t len)
{
	struct klbd_state st;
	uint8_t *enc;
	size_t elen;

	state_init(&st);
	check(!state_decode(&st, p, len, NULL, 0), "a re-encoded snapshot decodes");
	check(!state_encode(&st, &enc, &elen), "encode");
	check(elen == len && !memcmp(enc, p, len),
	      "a re-encoded older snapshot re-encodes differently");
	free(enc);
	state_free(&st);
}

static void payload(const uint8_t *p, size_t len)
{
	struct klbd_state st;
	struct klbd_cmd cmd;
	uint8_t *buf;
	int n;

	if (!klbd_cmd_decode(p, len, &cmd, NULL, 0)) {
		buf = malloc(klbd_cmd_size(&cmd) + 1);
		check(buf != NULL, "malloc");
		n = klbd_cmd_encode(&cmd, buf, klbd_cmd_size(&cmd));
		check(n == (int)len && !memcmp(buf, p, len), "a command re-encodes differently");
		free(buf);
		klbd_cmd_release(&cmd);
	}
	state_init(&st);
	if (!state_decode(&st, p, len, NULL, 0)) {
		uint8_t *enc;
		size_t elen;

		check(!state_encode(&st, &enc, &elen), "encode");
		if (get_u32(p + 4) == STATE_SNAPSHOT_VERSION)
			check(elen == len && !memcmp(enc, p, len),
			      "a snapshot re-encodes differently");
		else
			/* An older version comes out in today's: stable from there. */
			stable(enc, elen);
		free(enc);
	}
	state_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_key key = { .key = "fuzz session key, 32 bytes long" };
	struct frame f;
	long len;
	uint8_t *copy;

	payload(data, size);
	while (size) {
		len = frame_len(data, size);
		if (len < 0 || (size_t)len > size)
			break;
		if (!frame_decode(data, len, NULL, 0, &f)) {
			check(!frame_type_has_mac(f.type), "a data frame without a key");
			payload(f.payload, f.len);
		}
		if (!frame_decode(data, len, &key, 1, &f))
			payload(f.payload, f.len);
		data += len;
		size -= len;
	}
	/* And a frame of our own around the rest: it must decode. */
	copy = malloc(frame_size(FRAME_RAFT, size > 4096 ? 4096 : size));
	if (copy) {
		size_t n = size > 4096 ? 4096 : size;

		len = frame_encode(copy, frame_size(FRAME_RAFT, n), FRAME_RAFT, 9,
				   data, n, &key);
		check(len > 0 && !frame_decode(copy, len, &key, 9, &f) &&
		      f.len == n, "our own frame refused");
		free(copy);
	}
	return 0;
}
