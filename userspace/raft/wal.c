// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
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
	uint64_t size;
	struct segment *segs;
	size_t n_segs;
	struct wal_options opt;
	struct io_uring ring;
	bool uring;
	bool unsynced;		/* the active segment has writes not yet synced */
	int failed;
	struct raft_hard_state hs;
	uint64_t start_index;
	uint64_t start_term;
	uint8_t *buf;
	size_t len;
	size_t cap;
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

static int buf_reserve(struct wal *w, size_t more)
{
	if (w->len + more > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *nb;

		while (cap < w->len + more)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb)
			return -ENOMEM;
		w->buf = nb;
		w->cap = cap;
	}
	return 0;
}

/*
 * Appends a record; the payload is written by the caller into the
 * returned space, then record_seal() computes the checksum.
 */
static uint8_t *record_begin(struct wal *w, uint8_t type, size_t payload)
{
	uint8_t *p;

	if (buf_reserve(w, REC_HEADER + payload))
		return NULL;
	p = w->buf + w->len;
	put32(p, payload);
	p[8] = type;
	w->len += REC_HEADER + payload;
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

static int encode_entry(struct wal *w, const struct raft_entry *e)
{
	uint8_t *r = record_begin(w, REC_ENTRY, 24 + e->len);

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

static int encode_hs(struct wal *w, const struct raft_hard_state *hs)
{
	uint8_t *r = record_begin(w, REC_HARD_STATE, 24);

	if (!r)
		return -ENOMEM;
	put64(r + 9, hs->term);
	put64(r + 17, hs->vote);
	put64(r + 25, hs->commit);
	record_seal(r);
	return 0;
}

static int encode_start(struct wal *w, uint64_t index, uint64_t term, bool reset)
{
	uint8_t *r = record_begin(w, REC_START, 17);

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

/*
 * One batch: write at the tail, then (optionally) fdatasync, as a linked
 * pair in one io_uring submission.
 */
static int write_batch(struct wal *w, bool sync)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int err, i, want, write_res = 0, sync_res = 0;

	err = storage_fault_check(w->opt.fault, STORAGE_WRITE);
	if (err)
		return err;
	if (!w->uring) {
		err = fs_write_all(w->fs, w->fd, w->buf, w->len, w->size);
		if (err)
			return err;
		if (sync) {
			err = storage_fault_check(w->opt.fault, STORAGE_SYNC);
			if (err)
				return err;
			return w->fs->ops->sync(w->fs->ctx, w->fd);
		}
		return 0;
	}
	sqe = io_uring_get_sqe(&w->ring);
	io_uring_prep_write(sqe, w->fd, w->buf, w->len, w->size);
	sqe->user_data = 1;
	want = 1;
	if (sync) {
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&w->ring);
		io_uring_prep_fsync(sqe, w->fd, IORING_FSYNC_DATASYNC);
		sqe->user_data = 2;
		want = 2;
	}
	err = io_uring_submit_and_wait(&w->ring, want);
	if (err < 0)
		return err;
	for (i = 0; i < want; i++) {
		err = io_uring_wait_cqe(&w->ring, &cqe);
		if (err)
			return err;
		if (cqe->user_data == 1)
			write_res = cqe->res;
		else
			sync_res = cqe->res;
		io_uring_cqe_seen(&w->ring, cqe);
	}
	if (write_res < 0)
		return write_res;
	if ((size_t)write_res < w->len) {
		/* Short write: finish it by hand; the linked sync was cancelled. */
		err = fs_write_all(w->fs, w->fd, w->buf + write_res, w->len - write_res,
				   w->size + write_res);
		if (err)
			return err;
		sync_res = sync && fdatasync(w->fd) ? -errno : 0;
	}
	if (sync) {
		err = storage_fault_check(w->opt.fault, STORAGE_SYNC);
		if (err)
			return err;
	}
	return sync_res;
}

static void segment_name(char *name, size_t len, uint64_t seq)
{
	snprintf(name, len, "%016" PRIx64 ".wal", seq);
}

static int segment_create(struct wal *w, uint64_t seq)
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
	err = fsync_dir(w);
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

/*
 * Puts the hard state and log start in front of the batch in w->buf: every
 * segment begins with them, so that deleting older segments loses neither.
 */
static int prepend_header(struct wal *w)
{
	size_t body = w->len;
	uint8_t *saved = malloc(body ? body : 1);
	int err;

	if (!saved)
		return -ENOMEM;
	/* The header alone (a new WAL) has no body and maybe no buffer yet. */
	if (body)
		memcpy(saved, w->buf, body);
	w->len = 0;
	err = encode_hs(w, &w->hs) ?: encode_start(w, w->start_index, w->start_term, false);
	if (!err)
		err = buf_reserve(w, body);
	if (!err) {
		memcpy(w->buf + w->len, saved, body);
		w->len += body;
	}
	free(saved);
	return err;
}

static int sync_active(struct wal *w)
{
	int err = storage_fault_check(w->opt.fault, STORAGE_SYNC);

	if (err)
		return err;
	return w->fs->ops->sync(w->fs->ctx, w->fd);
}

/*
 * Writes w->buf as one batch, rolling to a new segment first if the active
 * one is full. A segment that holds nothing yet gets the header first: a
 * new one, and also one whose first write was lost in a crash (or failed)
 * and that recovery found empty.
 *
 * A full segment is synced before the next one is created: only the last
 * segment may ever end in a torn write, which is how recovery tells a
 * crash from corruption.
 */
static int flush(struct wal *w, bool sync, uint64_t last_index)
{
	int err;

	if (w->failed)
		return -EIO;
	if (w->size >= w->opt.segment_bytes) {
		err = w->unsynced ? sync_active(w) : 0;
		if (!err)
			err = segment_create(w, w->segs[w->n_segs - 1].seq + 1);
		if (err) {
			w->failed = err;
			return err;
		}
	}
	if (!w->size) {
		err = prepend_header(w);
		if (err)
			return err;
	}
	err = write_batch(w, sync);
	if (err) {
		w->failed = err;
		return err;
	}
	w->size += w->len;
	w->len = 0;
	w->unsynced = !sync;	/* a sync covers every earlier write too */
	if (last_index > w->segs[w->n_segs - 1].last_index)
		w->segs[w->n_segs - 1].last_index = last_index;
	return 0;
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
	/* io_uring reaches the kernel's file systems only. */
	if (w->fs == &fs_posix && !w->opt.no_uring && io_uring_queue_init(8, &w->ring, 0) == 0)
		w->uring = true;
	if (!w->n_segs) {
		err = segment_create(w, 1);
		if (!err)
			err = flush(w, true, 0);	/* the header alone */
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
	size_t i;
	int err = 0;

	if (w->failed)
		return -EIO;
	w->len = 0;
	for (i = 0; i < n && !err; i++)
		err = encode_entry(w, &ents[i]);
	if (!err && hs) {
		err = encode_hs(w, hs);
		if (!err)
			w->hs = *hs;
	}
	if (err)
		return err;
	if (!w->len)
		return 0;
	return flush(w, sync, n ? ents[n - 1].index : 0);
}

int wal_set_start(struct wal *w, uint64_t index, uint64_t term, bool reset)
{
	int err;

	if (w->failed)
		return -EIO;
	w->len = 0;
	err = encode_start(w, index, term, reset);
	if (err)
		return err;
	err = flush(w, true, 0);
	if (err)
		return err;
	w->start_index = index;
	w->start_term = term;
	return 0;
}

int wal_compact(struct wal *w, uint64_t index)
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
	if (del) {
		err = fsync_dir(w);
		if (err)
			return err;
	}
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
	if (w->uring)
		io_uring_queue_exit(&w->ring);
	if (w->fd >= 0)
		w->fs->ops->close(w->fs->ctx, w->fd);
	if (w->dirfd >= 0)
		w->fs->ops->close(w->fs->ctx, w->dirfd);
	free(w->segs);
	free(w->buf);
	free(w);
}
