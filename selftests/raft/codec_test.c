// SPDX-License-Identifier: GPL-2.0
/*
 * The wire codec: every message type round-trips, and every way a frame
 * can be wrong is refused with its own error (truncated at every length,
 * every limit, type, flags, version), never by reading past the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "raft/codec.h"
#include "raft/prng.h"

static char data_a[] = "alpha", data_b[] = "bravo-bravo";
static struct raft_entry ents[2] = {
	{ .term = 3, .index = 8, .type = RAFT_ENTRY_NORMAL, .len = 5, .data = data_a },
	{ .term = 4, .index = 9, .type = RAFT_ENTRY_CONF, .len = 11, .data = data_b },
};

/* A message of each type with every field it carries set. */
static struct raft_msg sample(uint32_t type)
{
	struct raft_msg m = {
		.type = type, .from = 1, .to = 2, .term = 4, .index = 7, .log_term = 3,
		.commit = 6, .reject = type == RAFT_MSG_APPEND_RESP, .reject_hint = 5,
		.context = 0x1122334455667788ull,
	};

	if (type == RAFT_MSG_APPEND) {
		m.entries = ents;
		m.n_entries = 2;
	}
	if (type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_SNAPSHOT_RESP) {
		m.snap.index = 100;
		m.snap.term = 4;
		m.snap.conf.n_voters = 3;
		m.snap.conf.voters[0] = 1;
		m.snap.conf.voters[1] = 2;
		m.snap.conf.voters[2] = 3;
		m.snap.conf.n_learners = 1;
		m.snap.conf.learners[0] = 9;
	}
	if (type == RAFT_MSG_SNAPSHOT) {
		m.snap_offset = 4096;
		m.snap_total = 5000;
		m.snap_len = 11;
		m.snap_data = data_b;
	}
	return m;
}

static bool same(const struct raft_msg *a, const struct raft_msg *b)
{
	uint32_t i;

	if (a->type != b->type || a->from != b->from || a->to != b->to || a->term != b->term ||
	    a->index != b->index || a->log_term != b->log_term || a->commit != b->commit ||
	    a->reject != b->reject || a->reject_hint != b->reject_hint ||
	    a->context != b->context || a->n_entries != b->n_entries ||
	    a->snap.index != b->snap.index || a->snap.term != b->snap.term ||
	    memcmp(&a->snap.conf, &b->snap.conf, sizeof(a->snap.conf)) ||
	    a->snap_offset != b->snap_offset || a->snap_total != b->snap_total ||
	    a->snap_len != b->snap_len ||
	    (a->snap_len && memcmp(a->snap_data, b->snap_data, a->snap_len)))
		return false;
	for (i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];

		if (x->term != y->term || x->index != y->index || x->type != y->type ||
		    x->len != y->len || (x->len && memcmp(x->data, y->data, x->len)))
			return false;
	}
	return true;
}

TEST(every_message_type_round_trips)
{
	uint8_t buf[1024];
	uint32_t type;

	for (type = 1; type < RAFT_MSG_TYPE_MAX; type++) {
		struct raft_msg m = sample(type), got;
		long n = raft_codec_encode(&m, buf, sizeof(buf));

		ASSERT_LT(0, n);
		EXPECT_EQ(n, raft_codec_size(&m));
		EXPECT_EQ(n, raft_codec_frame_len(buf, n));
		ASSERT_EQ(0, raft_codec_decode(buf, n, &got));
		EXPECT_TRUE(same(&m, &got)) TH_LOG("type %s", raft_msg_name(type));
		raft_codec_msg_free(&got);
	}
}

TEST(empty_append_and_empty_chunk_round_trip)
{
	struct raft_msg m = sample(RAFT_MSG_APPEND), s = sample(RAFT_MSG_SNAPSHOT), got;
	uint8_t buf[512];
	long n;

	m.n_entries = 0;
	m.entries = NULL;
	n = raft_codec_encode(&m, buf, sizeof(buf));
	ASSERT_EQ(0, raft_codec_decode(buf, n, &got));
	EXPECT_EQ(0, got.n_entries);
	EXPECT_EQ(NULL, got.entries);
	s.snap_len = 0;
	s.snap_data = NULL;
	n = raft_codec_encode(&s, buf, sizeof(buf));
	ASSERT_EQ(0, raft_codec_decode(buf, n, &got));
	EXPECT_EQ(0, got.snap_len);
}

TEST(every_truncation_and_extension_is_refused)
{
	uint8_t buf[1024];
	uint32_t type;

	for (type = 1; type < RAFT_MSG_TYPE_MAX; type++) {
		struct raft_msg m = sample(type), got;
		long n = raft_codec_encode(&m, buf, sizeof(buf)), cut;

		ASSERT_LT(0, n);
		for (cut = 0; cut < n; cut++) {
			/* Each prefix copied alone, so a read past it would be past the heap block. */
			uint8_t *p = malloc(cut ? cut : 1);

			memcpy(p, buf, cut);
			EXPECT_EQ(-EBADMSG, raft_codec_decode(p, cut, &got));
			/* The prefix also says so when the lengths inside are fixed up. */
			if (cut >= 4) {
				p[0] = (cut - 4) & 0xff;
				p[1] = (cut - 4) >> 8;
				p[2] = p[3] = 0;
				if (cut >= 8)
					EXPECT_EQ(-EBADMSG, raft_codec_decode(p, cut, &got));
			}
			free(p);
		}
		/* A byte too many. */
		buf[0]++;
		buf[n] = 0;
		EXPECT_EQ(-EBADMSG, raft_codec_decode(buf, n + 1, &got));
	}
}

TEST(bad_version_type_flags_and_pad_are_refused)
{
	struct raft_msg m = sample(RAFT_MSG_HEARTBEAT), got;
	uint8_t buf[512];
	long n = raft_codec_encode(&m, buf, sizeof(buf));

	buf[4] = RAFT_CODEC_VERSION + 1;
	EXPECT_EQ(-EPROTONOSUPPORT, raft_codec_decode(buf, n, &got));
	buf[4] = RAFT_CODEC_VERSION;
	buf[5] = 0;
	EXPECT_EQ(-EPROTO, raft_codec_decode(buf, n, &got));
	buf[5] = RAFT_MSG_TYPE_MAX;
	EXPECT_EQ(-EPROTO, raft_codec_decode(buf, n, &got));
	buf[5] = RAFT_MSG_HEARTBEAT;
	buf[6] = 0x02;
	EXPECT_EQ(-EPROTO, raft_codec_decode(buf, n, &got));
	buf[6] = 0;
	buf[7] = 1;
	EXPECT_EQ(-EPROTO, raft_codec_decode(buf, n, &got));
	buf[7] = 0;
	EXPECT_EQ(0, raft_codec_decode(buf, n, &got));
	/* A type that cannot carry entries, on the encoding side. */
	m.entries = ents;
	m.n_entries = 1;
	EXPECT_EQ(-EINVAL, raft_codec_size(&m));
	m.n_entries = 0;
	m.type = 99;
	EXPECT_EQ(-EINVAL, raft_codec_encode(&m, buf, sizeof(buf)));
}

/* Offset of the u32 at the start of the APPEND's entries section. */
#define APPEND_COUNT_OFF RAFT_CODEC_HEADER_BYTES

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

TEST(every_limit_is_refused_when_encoding_and_decoding)
{
	struct raft_msg m = sample(RAFT_MSG_APPEND), got;
	struct raft_entry big = ents[0];
	uint8_t buf[1024];
	long n;

	/* Encoding: each limit by itself. */
	big.len = RAFT_CODEC_MAX_ENTRY_BYTES + 1;
	m.entries = &big;
	m.n_entries = 1;
	EXPECT_EQ(-EMSGSIZE, raft_codec_size(&m));
	m.n_entries = RAFT_CODEC_MAX_ENTRIES + 1;
	EXPECT_EQ(-EMSGSIZE, raft_codec_size(&m));
	m = sample(RAFT_MSG_SNAPSHOT);
	m.snap_len = RAFT_CODEC_MAX_CHUNK_BYTES + 1;
	EXPECT_EQ(-EMSGSIZE, raft_codec_size(&m));
	m = sample(RAFT_MSG_APPEND);
	EXPECT_EQ(-ENOBUFS, raft_codec_encode(&m, buf, 20));

	/* Decoding: lengths in the bytes over their limits. */
	n = raft_codec_encode(&m, buf, sizeof(buf));
	put32(buf + APPEND_COUNT_OFF, RAFT_CODEC_MAX_ENTRIES + 1);
	EXPECT_EQ(-EMSGSIZE, raft_codec_decode(buf, n, &got));
	put32(buf + APPEND_COUNT_OFF, 1000);	/* more than the bytes can hold */
	EXPECT_EQ(-EBADMSG, raft_codec_decode(buf, n, &got));
	put32(buf + APPEND_COUNT_OFF, 2);
	put32(buf + APPEND_COUNT_OFF + 4 + 20, RAFT_CODEC_MAX_ENTRY_BYTES + 1);
	EXPECT_EQ(-EMSGSIZE, raft_codec_decode(buf, n, &got));
	put32(buf + APPEND_COUNT_OFF + 4 + 20, 5);
	EXPECT_EQ(0, raft_codec_decode(buf, n, &got));
	raft_codec_msg_free(&got);

	m = sample(RAFT_MSG_SNAPSHOT);
	n = raft_codec_encode(&m, buf, sizeof(buf));
	/* The chunk length is the u32 before the chunk's bytes. */
	put32(buf + n - m.snap_len - 4, RAFT_CODEC_MAX_CHUNK_BYTES + 1);
	EXPECT_EQ(-EMSGSIZE, raft_codec_decode(buf, n, &got));
	/* The configuration's length, after the snapshot's index and term. */
	m = sample(RAFT_MSG_SNAPSHOT_RESP);
	n = raft_codec_encode(&m, buf, sizeof(buf));
	put32(buf + RAFT_CODEC_HEADER_BYTES + 16, 1u << 20);
	EXPECT_EQ(-EMSGSIZE, raft_codec_decode(buf, n, &got));

	/* The frame as a whole. */
	put32(buf, RAFT_CODEC_MAX_FRAME_BYTES);
	EXPECT_EQ(-EMSGSIZE, raft_codec_frame_len(buf, 4));
	EXPECT_EQ(-EMSGSIZE, raft_codec_decode(buf, n, &got));
	EXPECT_EQ(-EAGAIN, raft_codec_frame_len(buf, 3));
}

TEST(random_damage_never_crashes)
{
	uint32_t type, round;
	struct prng prng;
	uint8_t buf[1024];

	prng_seed(&prng, 7);
	for (round = 0; round < 20000; round++) {
		struct raft_msg m, got;
		uint8_t *p;
		long n;
		int flips, err;

		type = 1 + prng_below(&prng, RAFT_MSG_TYPE_MAX - 1);
		m = sample(type);
		n = raft_codec_encode(&m, buf, sizeof(buf));
		for (flips = 1 + prng_below(&prng, 4); flips; flips--)
			buf[prng_below(&prng, n)] ^= 1 << prng_below(&prng, 8);
		p = malloc(n);
		memcpy(p, buf, n);
		err = raft_codec_decode(p, n, &got);
		if (!err)
			raft_codec_msg_free(&got);
		else
			ASSERT_TRUE(err == -EBADMSG || err == -EMSGSIZE || err == -EPROTO ||
				    err == -EPROTONOSUPPORT);
		free(p);
	}
}

TEST_HARNESS_MAIN
