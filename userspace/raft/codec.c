// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "raft/codec.h"
#include "raft/conf.h"

#define FLAG_REJECT 0x01
#define ENTRY_HEADER_BYTES (8 + 8 + 4 + 4)

/* Byte by byte: the wire is little-endian whatever the host. */
static void put_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool has_snap_meta(uint32_t type)
{
	return type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_SNAPSHOT_RESP;
}

long raft_codec_size(const struct raft_msg *m)
{
	uint64_t size = RAFT_CODEC_HEADER_BYTES;
	uint8_t conf[CONF_ENCODED_MAX];
	uint32_t i;

	if (m->type == 0 || m->type >= RAFT_MSG_TYPE_MAX)
		return -EINVAL;
	if (m->n_entries && m->type != RAFT_MSG_APPEND)
		return -EINVAL;
	if (has_snap_meta(m->type))
		size += 8 + 8 + 4 + conf_encode(&m->snap.conf, conf);
	if (m->type == RAFT_MSG_SNAPSHOT) {
		if (m->snap_len > RAFT_CODEC_MAX_CHUNK_BYTES)
			return -EMSGSIZE;
		size += 8 + 8 + 4 + m->snap_len;
	}
	if (m->type == RAFT_MSG_APPEND) {
		if (m->n_entries > RAFT_CODEC_MAX_ENTRIES)
			return -EMSGSIZE;
		size += 4;
		for (i = 0; i < m->n_entries; i++) {
			if (m->entries[i].len > RAFT_CODEC_MAX_ENTRY_BYTES)
				return -EMSGSIZE;
			size += ENTRY_HEADER_BYTES + m->entries[i].len;
		}
	}
	if (size > RAFT_CODEC_MAX_FRAME_BYTES)
		return -EMSGSIZE;
	return size;
}

long raft_codec_encode(const struct raft_msg *m, void *buf, size_t cap)
{
	const uint64_t words[] = {
		m->from, m->to, m->term, m->index, m->log_term, m->commit, m->reject_hint,
		m->context,
	};
	long size = raft_codec_size(m);
	uint8_t *p = buf;
	uint32_t i, conf_len;

	if (size < 0)
		return size;
	if ((size_t)size > cap)
		return -ENOBUFS;
	put_le(p, size - 4, 4);
	p[4] = RAFT_CODEC_VERSION;
	p[5] = m->type;
	p[6] = m->reject ? FLAG_REJECT : 0;
	p[7] = 0;
	p += 8;
	for (i = 0; i < 8; i++, p += 8)
		put_le(p, words[i], 8);
	if (has_snap_meta(m->type)) {
		put_le(p, m->snap.index, 8);
		put_le(p + 8, m->snap.term, 8);
		conf_len = conf_encode(&m->snap.conf, p + 20);
		put_le(p + 16, conf_len, 4);
		p += 20 + conf_len;
	}
	if (m->type == RAFT_MSG_SNAPSHOT) {
		put_le(p, m->snap_offset, 8);
		put_le(p + 8, m->snap_total, 8);
		put_le(p + 16, m->snap_len, 4);
		if (m->snap_len)
			memcpy(p + 20, m->snap_data, m->snap_len);
		p += 20 + m->snap_len;
	}
	if (m->type == RAFT_MSG_APPEND) {
		put_le(p, m->n_entries, 4);
		p += 4;
		for (i = 0; i < m->n_entries; i++) {
			const struct raft_entry *e = &m->entries[i];

			put_le(p, e->term, 8);
			put_le(p + 8, e->index, 8);
			put_le(p + 16, e->type, 4);
			put_le(p + 20, e->len, 4);
			if (e->len)
				memcpy(p + ENTRY_HEADER_BYTES, e->data, e->len);
			p += ENTRY_HEADER_BYTES + e->len;
		}
	}
	return size;
}

long raft_codec_frame_len(const void *buf, size_t len)
{
	uint64_t rest;

	if (len < 4)
		return -EAGAIN;
	rest = get_le(buf, 4);
	if (rest + 4 > RAFT_CODEC_MAX_FRAME_BYTES)
		return -EMSGSIZE;
	return rest + 4;
}

/* A read cursor over untrusted bytes: every take checks what is left. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (n > c->left)
		return NULL;
	c->p += n;
	c->left -= n;
	return p;
}

static int take_le(struct cursor *c, int n, uint64_t *v)
{
	const uint8_t *p = take(c, n);

	if (!p)
		return -EBADMSG;
	*v = get_le(p, n);
	return 0;
}

static int decode_snap_meta(struct cursor *c, struct raft_msg *m)
{
	uint64_t conf_len;
	const uint8_t *conf;
	int err;

	err = take_le(c, 8, &m->snap.index) ?: take_le(c, 8, &m->snap.term) ?:
	      take_le(c, 4, &conf_len);
	if (err)
		return err;
	if (conf_len > CONF_ENCODED_MAX)
		return -EMSGSIZE;
	conf = take(c, conf_len);
	if (!conf)
		return -EBADMSG;
	return conf_decode(conf, conf_len, &m->snap.conf) ? -EBADMSG : 0;
}

static int decode_chunk(struct cursor *c, struct raft_msg *m)
{
	uint64_t len;
	int err;

	err = take_le(c, 8, &m->snap_offset) ?: take_le(c, 8, &m->snap_total) ?:
	      take_le(c, 4, &len);
	if (err)
		return err;
	if (len > RAFT_CODEC_MAX_CHUNK_BYTES)
		return -EMSGSIZE;
	m->snap_data = (void *)take(c, len);
	if (!m->snap_data)
		return -EBADMSG;
	m->snap_len = len;
	if (!len)
		m->snap_data = NULL;
	return 0;
}

static int decode_entries(struct cursor *c, struct raft_msg *m)
{
	uint64_t n, i, v;
	int err;

	err = take_le(c, 4, &n);
	if (err)
		return err;
	if (n > RAFT_CODEC_MAX_ENTRIES)
		return -EMSGSIZE;
	/* Each entry needs its header: refuse a count the bytes cannot hold. */
	if (n * ENTRY_HEADER_BYTES > c->left)
		return -EBADMSG;
	if (!n)
		return 0;
	m->entries = calloc(n, sizeof(*m->entries));
	if (!m->entries)
		return -ENOMEM;
	m->n_entries = n;
	for (i = 0; i < n; i++) {
		struct raft_entry *e = &m->entries[i];

		err = take_le(c, 8, &e->term) ?: take_le(c, 8, &e->index) ?:
		      take_le(c, 4, &v);
		if (err)
			return err;
		e->type = v;
		err = take_le(c, 4, &v);
		if (err)
			return err;
		if (v > RAFT_CODEC_MAX_ENTRY_BYTES)
			return -EMSGSIZE;
		e->len = v;
		e->data = v ? (void *)take(c, v) : NULL;
		if (v && !e->data)
			return -EBADMSG;
	}
	return 0;
}

int raft_codec_decode(const void *buf, size_t len, struct raft_msg *m)
{
	struct cursor c = { buf, len };
	uint64_t *words[] = {
		&m->from, &m->to, &m->term, &m->index, &m->log_term, &m->commit,
		&m->reject_hint, &m->context,
	};
	const uint8_t *h;
	long frame;
	int err = 0, i;

	memset(m, 0, sizeof(*m));
	frame = raft_codec_frame_len(buf, len);
	if (frame == -EAGAIN)
		return -EBADMSG;
	if (frame < 0)
		return frame;
	if ((size_t)frame != len)
		return -EBADMSG;
	h = take(&c, 8);
	if (!h)
		return -EBADMSG;
	if (h[4] != RAFT_CODEC_VERSION)
		return -EPROTONOSUPPORT;
	if (h[5] == 0 || h[5] >= RAFT_MSG_TYPE_MAX || (h[6] & ~FLAG_REJECT) || h[7])
		return -EPROTO;
	m->type = h[5];
	m->reject = h[6] & FLAG_REJECT;
	for (i = 0; i < 8 && !err; i++)
		err = take_le(&c, 8, words[i]);
	if (!err && has_snap_meta(m->type))
		err = decode_snap_meta(&c, m);
	if (!err && m->type == RAFT_MSG_SNAPSHOT)
		err = decode_chunk(&c, m);
	if (!err && m->type == RAFT_MSG_APPEND)
		err = decode_entries(&c, m);
	if (!err && c.left)
		err = -EBADMSG;
	if (err) {
		raft_codec_msg_free(m);
		memset(m, 0, sizeof(*m));
	}
	return err;
}

void raft_codec_msg_free(struct raft_msg *m)
{
	free(m->entries);
	m->entries = NULL;
	m->n_entries = 0;
}
