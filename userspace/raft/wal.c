// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "raft/crc32c.h"
#include "raft/wal.h"

#define REC_HEADER 9
#define REC_MAX_PAYLOAD (64u << 20)
#define SEGMENT_DEFAULT (64u << 20)

enum record_type {
	REC_ENTRY = 1,
	REC_HARD_STATE = 2,
	REC_START = 3,
};

struct segment {
	uint64_t seq;
	uint64_t last_index;	/* highest entry index written to it */
};

struct wal {
	const struct fs *fs;
	int dirfd;
	int fd;			/* the active (last) segment */
	uint64_t size;		/* of the active segment, submitted writes included */
	struct segment *segs;
	size_t n_segs;
	struct wal_options opt;
	bool unsynced;		/* the active segment has writes not yet synced */
	bool in_flight;		/* a submitted batch has not completed */
	bool dir_unsynced;	/* segments deleted, the directory not yet synced */
	int failed;
	struct raft_hard_state hs;	/* as of the last submitted batch */
	uint64_t start_index;
	uint64_t start_term;
};

/* ---- encoding ---- */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);	/* little-endian hosts only (x86_64, arm64) */
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * Appends a record; the payload is written by the caller into the
 * returned space, then record_seal() computes the checksum.
 */
static uint8_t *record_begin(struct raft_io_buf *b, uint8_t type, size_t payload)
{
	uint8_t *p;

	if (raft_io_buf_reserve(b, REC_HEADER + payload))
		return NULL;
	p = b->p + b->len;
	put32(p, payload);
	p[8] = type;
	b->len += REC_HEADER + payload;
	return p;
}

/* Covers the length too: a damaged length must not pass for a short record. */
static uint32_t record_crc(const uint8_t *rec, uint32_t len)
{
	return crc32c(crc32c(0, rec, 4), rec + 8, 1 + len);
}

static void record_seal(uint8_t *rec)
{
	put32(rec + 4, record_crc(rec, get32(rec)));
}

static int encode_entry(struct raft_io_buf *b, const struct raft_entry *e)
{
	uint8_t *r = record_begin(b, REC_ENTRY, 24 + e->len);

	if (!r)
		return -ENOMEM;
	put64(r + 9, e->term);
	put64(r + 17, e->index);
	put32(r + 25, e->type);
	put32(r + 29, e->len);
	if (e->len)
		memcpy(r + 33, e->data, e->len);
	record_seal(r);
	return 0;
}

static int encode_hs(struct raft_io_buf *b, const struct raft_hard_state *hs)
{
	uint8_t *r = record_begin(b, REC_HARD_STATE, 24);

	if (!r)
		return -ENOMEM;
	put64(r + 9, hs->term);
	put64(r + 17, hs->vote);
	put64(r + 25, hs->commit);
	record_seal(r);
	return 0;
}

static int encode_start(struct raft_io_buf *b, uint64_t index, uint64_t term, bool reset)
{
	uint8_t *r = record_begin(b, REC_START, 17);

	if (!r)
		return -ENOMEM;
	put64(r + 9, index);
	put64(r + 17, term);
	r[25] = reset;
	record_seal(r);
	return 0;
}

/* ---- I/O ---- */

static int fsync_dir(struct wal *w)
{
	int err = storage_fault_check(w->opt.fault, STORAGE_SYNC);

	if (err)
		return err;
	return w->fs->ops->sync(w->fs->ctx, w->dirfd);
}

static void segment_name(char *name, size_t len, uint64_t seq)
{
	snprintf(name, len, "%016" PRIx64 ".wal", seq);
}

/*
 * Creates segment seq and makes it the active one. The directory sync that
 * makes the creation durable is the caller's: done here when sync_now,
 * else the first operation of the batch that writes to it.
 */
static int segment_create(struct wal *w, uint64_t seq, bool sync_now)
{
	struct segment *segs;
	char name[32];
	int fd, err;

	err = storage_fault_check(w->opt.fault, STORAGE_CREATE);
	if (err)
		return err;
	segs = realloc(w->segs, (w->n_segs + 1) * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	w->segs = segs;
	segment_name(name, sizeof(name), seq);
	fd = w->fs->ops->open(w->fs->ctx, w->dirfd, name, FS_WRITE | FS_CREATE | FS_EXCL);
	if (fd < 0)
		return fd;
	err = sync_now ? fsync_dir(w) : 0;
	if (err) {
		w->fs->ops->close(w->fs->ctx, fd);
		w->fs->ops->unlink(w->fs->ctx, w->dirfd, name);
		return err;
	}
	if (w->fd >= 0)
		w->fs->ops->close(w->fs->ctx, w->fd);
	w->fd = fd;
	w->size = 0;
	w->segs[w->n_segs].seq = seq;
	w->segs[w->n_segs].last_index = 0;
	w->n_segs++;
	return 0;
}

/* The hard state and log start every segment begins with. */
static int encode_header(const struct wal *w, struct raft_io_buf *b)
{
	return encode_hs(b, &w->hs) ?: encode_start(b, w->start_index, w->start_term, false);
}

static int sync_active(struct wal *w)
{
	int err = storage_fault_check(w->opt.fault, STORAGE_SYNC);

	if (err)
		return err;
	return w->fs->ops->sync(w->fs->ctx, w->fd);
}

int wal_batch_entries(struct wal_batch *wb, const struct raft_entry *ents, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = encode_entry(&wb->recs, &ents[i]);
		if (err)
			return err;
		if (ents[i].index > wb->last_index)
			wb->last_index = ents[i].index;
	}
	return 0;
}

int wal_batch_hs(struct wal_batch *wb, const struct raft_hard_state *hs)
{
	int err = encode_hs(&wb->recs, hs);

	if (!err) {
		wb->has_hs = true;
		wb->hs = *hs;
	}
	return err;
}

int wal_batch_start(struct wal_batch *wb, uint64_t index, uint64_t term, bool reset)
{
	int err = encode_start(&wb->recs, index, term, reset);

	if (!err) {
		wb->has_start = true;
		wb->start_index = index;
		wb->start_term = term;
		wb->sync = true;
	}
	return err;
}

void wal_batch_free(struct wal_batch *wb)
{
	raft_io_buf_free(&wb->recs);
	raft_io_buf_free(&wb->out);
	memset(wb, 0, sizeof(*wb));
}

/*
 * Turns the batch into a write at the tail of the active segment and,
 * when asked for or when the write fills the segment, a sync. Rolls to a
 * new segment first if the active one is full; a segment that holds
 * nothing yet gets the header first: a new one, and also one whose first
 * write was lost in a crash (or failed) and that recovery found empty.
 *
 * A full segment is synced before the next one is created: only the last
 * segment may ever end in a torn write, which is how recovery tells a
 * crash from corruption. The write that fills a segment carries that sync
 * itself, so the roll, made when the next batch is submitted (the one
 * before it has completed), finds the segment synced and never has to wait.
 */
int wal_submit(struct wal *w, struct wal_batch *wb, struct raft_io_batch *io)
{
	const struct raft_io_buf *data = &wb->recs;
	struct raft_io_op *op;
	int err;

	if (w->failed)
		return -EIO;
	if (w->in_flight)
		return -EBUSY;
	if (!wb->recs.len)
		return 0;
	if (w->dir_unsynced) {
		op = raft_io_add(io, RAFT_IO_SYNC, w->dirfd);
		op->dir = true;
		w->dir_unsynced = false;
	}
	if (w->size >= w->opt.segment_bytes) {
		/* Only if the fill rule above was broken: never in practice. */
		err = w->unsynced ? sync_active(w) : 0;
		if (!err)
			err = segment_create(w, w->segs[w->n_segs - 1].seq + 1, false);
		if (err) {
			w->failed = err;
			return err;
		}
		w->unsynced = false;
		op = raft_io_add(io, RAFT_IO_SYNC, w->dirfd);
		op->dir = true;
	}
	if (!w->size) {
		wb->out.len = 0;
		err = encode_header(w, &wb->out) ?: raft_io_buf_reserve(&wb->out, wb->recs.len);
		if (err)
			return err;
		memcpy(wb->out.p + wb->out.len, wb->recs.p, wb->recs.len);
		wb->out.len += wb->recs.len;
		data = &wb->out;
	}
	op = raft_io_add(io, RAFT_IO_WRITE, w->fd);
	op->buf = data->p;
	op->len = data->len;
	op->off = w->size;
	w->size += data->len;
	wb->synced = wb->sync || w->size >= w->opt.segment_bytes;
	if (wb->synced)
		raft_io_add(io, RAFT_IO_SYNC, w->fd);
	/* What the next batch's header must say. */
	if (wb->has_hs)
		w->hs = wb->hs;
	if (wb->has_start) {
		w->start_index = wb->start_index;
		w->start_term = wb->start_term;
	}
	w->in_flight = true;
	return 0;
}

int wal_complete(struct wal *w, struct wal_batch *wb, int err)
{
	if (!w->in_flight)
		return 0;
	w->in_flight = false;
	if (err) {
		/* What reached the disk is unknown until recovery reads it. */
		w->failed = err;
		return err;
	}
	w->unsynced = !wb->synced;	/* a sync covers every earlier write too */
	if (wb->last_index > w->segs[w->n_segs - 1].last_index)
		w->segs[w->n_segs - 1].last_index = wb->last_index;
	return 0;
}

/* Submits a batch and runs it synchronously through the struct fs. */
static int wal_run(struct wal *w, struct wal_batch *wb)
{
	struct raft_io_batch io = { .n_ops = 0 };
	int err = wal_submit(w, wb, &io);

	if (!err && io.n_ops)
		err = wal_complete(w, wb, raft_io_run(w->fs, w->opt.fault, &io));
	wal_batch_free(wb);
	return err;
}

/* ---- recovery ---- */

struct replay {
	struct wal_recovery *rec;
	size_t cap;
};

static void drop_entries_from(struct wal_recovery *rec, size_t keep)
{
	while (rec->n_entries > keep)
		free(rec->entries[--rec->n_entries].data);
}

static int replay_entry(struct replay *rp, const uint8_t *p, uint32_t len)
{
	struct wal_recovery *rec = rp->rec;
	struct raft_entry e;

	if (len < 24 || get32(p + 20) != len - 24)
		return -EBADMSG;
	e.term = get64(p);
	e.index = get64(p + 8);
	e.type = get32(p + 16);
	e.len = len - 24;
	if (rec->n_entries) {
		uint64_t first = rec->entries[0].index;
		uint64_t last = rec->entries[rec->n_entries - 1].index;

		if (e.index > last + 1)
			return -EBADMSG;
		/* A rewrite of an index drops it and everything after it. */
		drop_entries_from(rec, e.index > first ? e.index - first : 0);
	}
	if (rec->n_entries == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 256;
		struct raft_entry *ne = realloc(rec->entries, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		rec->entries = ne;
		rp->cap = cap;
	}
	e.data = NULL;
	if (e.len) {
		e.data = malloc(e.len);
		if (!e.data)
			return -ENOMEM;
		memcpy(e.data, p + 24, e.len);
	}
	rec->entries[rec->n_entries++] = e;
	return 0;
}

static int replay_start(struct replay *rp, const uint8_t *p, uint32_t len)
{
	struct wal_recovery *rec = rp->rec;
	uint64_t index, term;
	size_t drop = 0, i;

	if (len != 17)
		return -EBADMSG;
	index = get64(p);
	term = get64(p + 8);
	if (p[16]) {
		drop_entries_from(rec, 0);
	} else {
		while (drop < rec->n_entries && rec->entries[drop].index <= index)
			drop++;
		for (i = 0; i < drop; i++)
			free(rec->entries[i].data);
		/* Every segment starts with one, often before any entry. */
		if (drop)
			memmove(rec->entries, rec->entries + drop,
				(rec->n_entries - drop) * sizeof(*rec->entries));
		rec->n_entries -= drop;
	}
	/* Segment headers repeat an older start; never move backwards. */
	if (index >= rec->start_index) {
		rec->start_index = index;
		rec->start_term = term;
	}
	return 0;
}

/* Whether a whole record with a matching checksum starts at off. */
static bool record_intact(const uint8_t *buf, size_t size, size_t off, uint32_t *len)
{
	const uint8_t *r = buf + off;

	if (size - off < REC_HEADER)
		return false;
	*len = get32(r);
	return *len <= REC_MAX_PAYLOAD && *len <= size - off - REC_HEADER &&
	       get32(r + 4) == record_crc(r, *len);
}

/*
 * A write torn by a crash leaves nothing intact after it. Where an intact
 * record starts after the damage, the damage is corruption.
 */
static bool intact_record_after(const uint8_t *buf, size_t size, size_t off, size_t *found)
{
	uint32_t len;

	for (off++; size - off >= REC_HEADER; off++) {
		if (buf[off + 8] < REC_ENTRY || buf[off + 8] > REC_START)
			continue;
		if (record_intact(buf, size, off, &len)) {
			*found = off;
			return true;
		}
	}
	return false;
}

/*
 * Replays the intact records of one segment; *end is where they stop (the
 * segment's size when all are). -EBADMSG for an intact record that makes
 * no sense (a bug or tampering), at *end.
 */
static int replay_segment(struct replay *rp, const uint8_t *buf, size_t size, size_t *end,
			  uint64_t *last_index)
{
	size_t off = 0;
	uint32_t len;
	int err;

	while (off < size && record_intact(buf, size, off, &len)) {
		const uint8_t *r = buf + off;

		switch (r[8]) {
		case REC_ENTRY:
			err = replay_entry(rp, r + REC_HEADER, len);
			if (!err && get64(r + REC_HEADER + 8) > *last_index)
				*last_index = get64(r + REC_HEADER + 8);
			break;
		case REC_HARD_STATE:
			err = len == 24 ? 0 : -EBADMSG;
			if (!err) {
				rp->rec->hs.term = get64(r + REC_HEADER);
				rp->rec->hs.vote = get64(r + REC_HEADER + 8);
				rp->rec->hs.commit = get64(r + REC_HEADER + 16);
			}
			break;
		case REC_START:
			err = replay_start(rp, r + REC_HEADER, len);
			break;
		default:
			err = -EBADMSG;
		}
		if (err) {
			*end = off;
			return err;
		}
		off += REC_HEADER + len;
	}
	*end = off;
	return 0;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add_segment(void *arg, const char *name)
{
	struct wal *w = arg;
	struct segment *segs;
	uint64_t seq;
	char tail[8];

	if (strlen(name) != 20 || sscanf(name, "%16" SCNx64 "%7s", &seq, tail) != 2 ||
	    strcmp(tail, ".wal"))
		return 0;
	segs = realloc(w->segs, (w->n_segs + 1) * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	w->segs = segs;
	w->segs[w->n_segs].seq = seq;
	w->segs[w->n_segs].last_index = 0;
	w->n_segs++;
	return 0;
}

static int list_segments(struct wal *w)
{
	int err = w->fs->ops->list(w->fs->ctx, w->dirfd, add_segment, w);

	if (err)
		return err;
	/* An empty directory leaves segs NULL, which qsort must not get. */
	if (w->n_segs)
		qsort(w->segs, w->n_segs, sizeof(*w->segs), cmp_seq);
	return 0;
}

static int refuse(struct wal_recovery *rec, const char *dir, const char *name, size_t off,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int refuse(struct wal_recovery *rec, const char *dir, const char *name, size_t off,
		  const char *fmt, ...)
{
	size_t n = snprintf(rec->error, sizeof(rec->error), "%s/%s: offset %zu: ", dir, name, off);
	va_list ap;

	if (n < sizeof(rec->error)) {
		va_start(ap, fmt);
		vsnprintf(rec->error + n, sizeof(rec->error) - n, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* Cuts a torn write off the end of the last segment. */
static int cut_torn_tail(struct wal *w, const char *name, size_t valid)
{
	int fd = w->fs->ops->open(w->fs->ctx, w->dirfd, name, FS_WRITE), err;

	if (fd < 0)
		return fd;
	err = w->fs->ops->truncate(w->fs->ctx, fd, valid) ?:
	      w->fs->ops->sync(w->fs->ctx, fd);
	w->fs->ops->close(w->fs->ctx, fd);
	return err;
}

/*
 * Replays every segment. Damage is a torn write only at the very end of the
 * last segment: earlier segments were synced before a newer one was made,
 * and a torn write leaves nothing intact after it. Anything else is
 * corruption and recovery refuses, naming the file and offset, without
 * touching the file.
 */
static int recover(struct wal *w, const char *dir, struct wal_recovery *rec)
{
	struct replay rp = { .rec = rec };
	size_t i;
	int err;

	err = list_segments(w);
	if (err)
		return err;
	for (i = 0; i < w->n_segs; i++) {
		bool last = i == w->n_segs - 1;
		size_t size = 0, end, next;
		uint8_t *buf = NULL;
		char name[32];

		segment_name(name, sizeof(name), w->segs[i].seq);
		err = fs_read_file(w->fs, w->dirfd, name, &buf, &size);
		if (err)
			return err;
		err = replay_segment(&rp, buf, size, &end, &w->segs[i].last_index);
		if (err == -EBADMSG)
			err = refuse(rec, dir, name, end, "intact record that makes no sense");
		else if (!err && end < size && !last)
			err = refuse(rec, dir, name, end,
				     "damaged record in a segment that is not the last: corruption");
		else if (!err && end < size && intact_record_after(buf, size, end, &next))
			err = refuse(rec, dir, name, end,
				     "damaged record followed by an intact one at offset %zu: corruption",
				     next);
		free(buf);
		if (err)
			return err;
		if (end == size)
			continue;
		rec->truncated_bytes = size - end;
		err = cut_torn_tail(w, name, end);
		if (err)
			return err;
	}
	if (rec->n_entries && rec->entries[0].index != rec->start_index + 1) {
		snprintf(rec->error, sizeof(rec->error),
			 "%s: entries start at %" PRIu64 ", the log after %" PRIu64
			 ": segments are missing", dir, rec->entries[0].index, rec->start_index);
		return -EBADMSG;
	}
	rec->segments = w->n_segs;
	w->hs = rec->hs;
	w->start_index = rec->start_index;
	w->start_term = rec->start_term;
	return 0;
}

void wal_recovery_free(struct wal_recovery *rec)
{
	drop_entries_from(rec, 0);
	free(rec->entries);
	memset(rec, 0, sizeof(*rec));
}

/* A new segment's first write: the header alone, synced. */
static int write_header_alone(struct wal *w)
{
	struct wal_batch wb = { .sync = true };
	struct raft_io_batch io = { .n_ops = 0 };
	struct raft_io_op *op;
	int err = encode_header(w, &wb.recs);

	if (!err) {
		op = raft_io_add(&io, RAFT_IO_WRITE, w->fd);
		op->buf = wb.recs.p;
		op->len = wb.recs.len;
		raft_io_add(&io, RAFT_IO_SYNC, w->fd);
		err = raft_io_run(w->fs, w->opt.fault, &io);
	}
	if (!err)
		w->size = wb.recs.len;
	wal_batch_free(&wb);
	return err;
}

int wal_open(struct wal **out, const char *dir, const struct wal_options *opt,
	     struct wal_recovery *rec)
{
	struct wal *w = calloc(1, sizeof(*w));
	char name[32], why[sizeof(rec->error)];
	int err;

	memset(rec, 0, sizeof(*rec));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	if (opt)
		w->opt = *opt;
	if (!w->opt.segment_bytes)
		w->opt.segment_bytes = SEGMENT_DEFAULT;
	w->fs = fs_or_posix(w->opt.fs);
	w->dirfd = -1;
	err = w->fs->ops->mkdir(w->fs->ctx, dir);
	if (err && err != -EEXIST)
		goto fail;
	w->dirfd = w->fs->ops->open_dir(w->fs->ctx, dir);
	if (w->dirfd < 0) {
		err = w->dirfd;
		goto fail;
	}
	/* Segments created or deleted by a run whose directory sync failed. */
	err = recover(w, dir, rec) ?: fsync_dir(w);
	if (err)
		goto fail;
	if (!w->n_segs) {
		err = segment_create(w, 1, true) ?: write_header_alone(w);
		if (err)
			goto fail;
		rec->segments = 1;
	} else {
		segment_name(name, sizeof(name), w->segs[w->n_segs - 1].seq);
		w->fd = w->fs->ops->open(w->fs->ctx, w->dirfd, name, FS_WRITE);
		err = w->fd < 0 ? w->fd : w->fs->ops->size(w->fs->ctx, w->fd, &w->size);
		if (err)
			goto fail;
		/*
		 * What the last run wrote may still be only in the page cache
		 * (it crashed before its sync): make it durable before the
		 * core is told it is.
		 */
		err = sync_active(w);
		if (err)
			goto fail;
	}
	*out = w;
	return 0;
fail:
	memcpy(why, rec->error, sizeof(why));
	wal_recovery_free(rec);
	memcpy(rec->error, why, sizeof(why));
	wal_close(w);
	return err;
}

int wal_append(struct wal *w, const struct raft_entry *ents, size_t n,
	       const struct raft_hard_state *hs, bool sync)
{
	struct wal_batch wb = { .sync = sync };
	int err = wal_batch_entries(&wb, ents, n);

	if (!err && hs)
		err = wal_batch_hs(&wb, hs);
	if (err) {
		wal_batch_free(&wb);
		return err;
	}
	return wal_run(w, &wb);
}

int wal_set_start(struct wal *w, uint64_t index, uint64_t term, bool reset)
{
	struct wal_batch wb = { .sync = true };
	int err = wal_batch_start(&wb, index, term, reset);

	if (err) {
		wal_batch_free(&wb);
		return err;
	}
	return wal_run(w, &wb);
}

int wal_drop_segments(struct wal *w, uint64_t index)
{
	size_t del = 0, i;
	char name[32];
	int err;

	if (w->failed)
		return -EIO;
	if (index > w->start_index)
		return -EINVAL;	/* record the new start first */
	/* Only a prefix, never the active segment. */
	while (del + 1 < w->n_segs && w->segs[del].last_index <= index)
		del++;
	for (i = 0; i < del; i++) {
		segment_name(name, sizeof(name), w->segs[i].seq);
		err = w->fs->ops->unlink(w->fs->ctx, w->dirfd, name);
		if (err && err != -ENOENT)
			return err;
	}
	memmove(w->segs, w->segs + del, (w->n_segs - del) * sizeof(*w->segs));
	w->n_segs -= del;
	if (del)
		w->dir_unsynced = true;
	return 0;
}

int wal_compact(struct wal *w, uint64_t index)
{
	int err = wal_drop_segments(w, index);

	if (err || !w->dir_unsynced)
		return err;
	err = fsync_dir(w);
	if (err)
		return err;
	w->dir_unsynced = false;
	return 0;
}

unsigned int wal_segment_count(const struct wal *w)
{
	return w->n_segs;
}

void wal_close(struct wal *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		w->fs->ops->close(w->fs->ctx, w->fd);
	if (w->dirfd >= 0)
		w->fs->ops->close(w->fs->ctx, w->dirfd);
	free(w->segs);
	free(w);
}
