// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/sim_fs.h"

#define NAME_LEN 64
#define PATH_LEN 512
#define MAX_HANDLES 64

struct bytes {
	uint8_t *p;
	size_t len;
};

enum file_change_kind {
	FILE_WRITE,
	FILE_TRUNCATE,
};

/* A change to a file's data since its last sync. */
struct file_change {
	enum file_change_kind kind;
	uint64_t off;
	uint64_t len;		/* bytes written, or the new size */
	uint8_t *data;
};

struct inode {
	struct bytes now;	/* what reads see */
	struct bytes durable;	/* what a crash starts from */
	struct file_change *pending;
	size_t n_pending;
	size_t cap_pending;
};

struct name {
	char name[NAME_LEN];
	int ino;
};

struct names {
	struct name *e;
	size_t n;
	size_t cap;
};

enum dir_change_kind {
	DIR_LINK,		/* a new file, or a rename's target */
	DIR_UNLINK,
};

/* A change to a directory since its last sync; a rename is two, in order. */
struct dir_change {
	enum dir_change_kind kind;
	char name[NAME_LEN];
	int ino;
};

struct dir {
	char path[PATH_LEN];
	struct names now;
	struct names durable;
	struct dir_change *pending;
	size_t n_pending;
	size_t cap_pending;
};

struct handle {
	bool used;
	bool is_dir;
	int idx;		/* inode or directory */
};

struct sim_fs {
	struct fs fs;
	struct prng prng;
	struct sim_fs_faults faults;
	bool dead;
	struct inode *inodes;
	size_t n_inodes;
	struct dir *dirs;
	size_t n_dirs;
	struct handle handles[MAX_HANDLES];
	struct sim_fs_stats stats;
};

/* ---- byte strings, name tables ---- */

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		abort();	/* a test tool: out of memory is not a case */
	return p;
}

static void bytes_resize(struct bytes *b, size_t len)
{
	b->p = xrealloc(b->p, len);
	if (len > b->len)
		memset(b->p + b->len, 0, len - b->len);
	b->len = len;
}

static void bytes_write(struct bytes *b, uint64_t off, const uint8_t *data, size_t len)
{
	if (off + len > b->len)
		bytes_resize(b, off + len);
	memcpy(b->p + off, data, len);
}

static void bytes_copy(struct bytes *dst, const struct bytes *src)
{
	dst->p = xrealloc(dst->p, src->len);
	if (src->len)
		memcpy(dst->p, src->p, src->len);
	dst->len = src->len;
}

static struct name *names_find(const struct names *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return &t->e[i];
	return NULL;
}

static void names_remove(struct names *t, const char *name)
{
	struct name *e = names_find(t, name);

	if (e)
		*e = t->e[--t->n];
}

static void names_link(struct names *t, const char *name, int ino)
{
	struct name *e = names_find(t, name);

	if (!e) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 8;
			t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
		}
		e = &t->e[t->n++];
		snprintf(e->name, sizeof(e->name), "%s", name);
	}
	e->ino = ino;
}

static void names_copy(struct names *dst, const struct names *src)
{
	dst->e = xrealloc(dst->e, (src->n ? src->n : 1) * sizeof(*dst->e));
	/* Empty ones may have no memory at all: NULL is not for memcpy. */
	if (src->n)
		memcpy(dst->e, src->e, src->n * sizeof(*dst->e));
	dst->n = src->n;
	dst->cap = src->n ? src->n : 1;
}

static void dir_change_apply(struct names *t, const struct dir_change *c)
{
	if (c->kind == DIR_LINK)
		names_link(t, c->name, c->ino);
	else
		names_remove(t, c->name);
}

/* ---- pending changes ---- */

static void file_change_add(struct inode *in, enum file_change_kind kind, uint64_t off,
			    const uint8_t *data, uint64_t len)
{
	struct file_change *c;

	if (in->n_pending == in->cap_pending) {
		in->cap_pending = in->cap_pending ? in->cap_pending * 2 : 8;
		in->pending = xrealloc(in->pending, in->cap_pending * sizeof(*in->pending));
	}
	c = &in->pending[in->n_pending++];
	c->kind = kind;
	c->off = off;
	c->len = len;
	c->data = NULL;
	if (kind == FILE_WRITE) {
		c->data = xrealloc(NULL, len);
		memcpy(c->data, data, len);
	}
}

static void file_changes_clear(struct inode *in)
{
	size_t i;

	for (i = 0; i < in->n_pending; i++)
		free(in->pending[i].data);
	in->n_pending = 0;
}

static void dir_change_add(struct dir *d, enum dir_change_kind kind, const char *name, int ino)
{
	struct dir_change *c;

	if (d->n_pending == d->cap_pending) {
		d->cap_pending = d->cap_pending ? d->cap_pending * 2 : 8;
		d->pending = xrealloc(d->pending, d->cap_pending * sizeof(*d->pending));
	}
	c = &d->pending[d->n_pending++];
	c->kind = kind;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->ino = ino;
	dir_change_apply(&d->now, c);
}

/* ---- faults ---- */

/* Every change to the disk passes here: the machine may die first. */
static int change(struct sim_fs *sfs)
{
	if (sfs->dead)
		return -EIO;
	if (sfs->faults.changes_until_death == 0) {
		sfs->dead = true;
		return -EIO;
	}
	if (sfs->faults.changes_until_death > 0)
		sfs->faults.changes_until_death--;
	return 0;
}

/* ---- handles ---- */

static int handle_new(struct sim_fs *sfs, bool is_dir, int idx)
{
	int h;

	for (h = 0; h < MAX_HANDLES; h++) {
		if (!sfs->handles[h].used) {
			sfs->handles[h] = (struct handle){ true, is_dir, idx };
			return h;
		}
	}
	return -EMFILE;
}

static struct handle *handle_get(struct sim_fs *sfs, int h, bool is_dir)
{
	if (h < 0 || h >= MAX_HANDLES || !sfs->handles[h].used || sfs->handles[h].is_dir != is_dir)
		return NULL;
	return &sfs->handles[h];
}

static struct dir *dir_of(struct sim_fs *sfs, int h)
{
	struct handle *hd = handle_get(sfs, h, true);

	return hd ? &sfs->dirs[hd->idx] : NULL;
}

static struct inode *inode_of(struct sim_fs *sfs, int h)
{
	struct handle *hd = handle_get(sfs, h, false);

	return hd ? &sfs->inodes[hd->idx] : NULL;
}

static struct dir *dir_find(struct sim_fs *sfs, const char *path)
{
	size_t i;

	for (i = 0; i < sfs->n_dirs; i++)
		if (!strcmp(sfs->dirs[i].path, path))
			return &sfs->dirs[i];
	return NULL;
}

/* ---- the struct fs calls ---- */

static int sim_mkdir(void *ctx, const char *path)
{
	struct sim_fs *sfs = ctx;
	struct dir *d;
	int err = change(sfs);

	if (err)
		return err;
	if (strlen(path) >= PATH_LEN)
		return -ENAMETOOLONG;
	if (dir_find(sfs, path))
		return -EEXIST;
	sfs->dirs = xrealloc(sfs->dirs, (sfs->n_dirs + 1) * sizeof(*sfs->dirs));
	d = &sfs->dirs[sfs->n_dirs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", path);
	return 0;
}

static int sim_open_dir(void *ctx, const char *path)
{
	struct sim_fs *sfs = ctx;
	struct dir *d;

	if (sfs->dead)
		return -EIO;
	d = dir_find(sfs, path);
	if (!d)
		return -ENOENT;
	return handle_new(sfs, true, d - sfs->dirs);
}

static int sim_list(void *ctx, int dirfd, int (*fn)(void *arg, const char *name), void *arg)
{
	struct sim_fs *sfs = ctx;
	struct dir *d = dir_of(sfs, dirfd);
	size_t i;
	int err = 0;

	if (sfs->dead)
		return -EIO;
	if (!d)
		return -EBADF;
	for (i = 0; i < d->now.n && !err; i++)
		err = fn(arg, d->now.e[i].name);
	return err;
}

static int sim_open(void *ctx, int dirfd, const char *name, int flags)
{
	struct sim_fs *sfs = ctx;
	struct dir *d = dir_of(sfs, dirfd);
	struct name *e;
	int err, ino;

	if (sfs->dead)
		return -EIO;
	if (!d)
		return -EBADF;
	if (strlen(name) >= NAME_LEN)
		return -ENAMETOOLONG;
	e = names_find(&d->now, name);
	if (e && (flags & FS_CREATE) && (flags & FS_EXCL))
		return -EEXIST;
	if (!e && !(flags & FS_CREATE))
		return -ENOENT;
	if (!e || (flags & FS_TRUNC)) {
		err = change(sfs);
		if (err)
			return err;
	}
	if (!e) {
		sfs->inodes = xrealloc(sfs->inodes, (sfs->n_inodes + 1) * sizeof(*sfs->inodes));
		ino = sfs->n_inodes++;
		memset(&sfs->inodes[ino], 0, sizeof(sfs->inodes[ino]));
		dir_change_add(d, DIR_LINK, name, ino);
	} else {
		ino = e->ino;
	}
	if ((flags & FS_TRUNC) && sfs->inodes[ino].now.len) {
		bytes_resize(&sfs->inodes[ino].now, 0);
		file_change_add(&sfs->inodes[ino], FILE_TRUNCATE, 0, NULL, 0);
	}
	return handle_new(sfs, false, ino);
}

static ssize_t sim_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	struct sim_fs *sfs = ctx;
	struct inode *in = inode_of(sfs, fd);

	if (sfs->dead)
		return -EIO;
	if (!in)
		return -EBADF;
	if (off >= in->now.len)
		return 0;
	if (len > in->now.len - off)
		len = in->now.len - off;
	memcpy(buf, in->now.p + off, len);
	return len;
}

static ssize_t sim_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	struct sim_fs *sfs = ctx;
	struct inode *in = inode_of(sfs, fd);
	int err = change(sfs);

	if (err)
		return err;
	if (!in)
		return -EBADF;
	sfs->stats.writes++;
	if (prng_chance(&sfs->prng, sfs->faults.write_error_permille)) {
		/* Part of it may have made it into the page cache. */
		len = prng_below(&sfs->prng, len + 1);
		err = prng_below(&sfs->prng, 2) ? -ENOSPC : -EIO;
		sfs->stats.write_errors++;
	}
	if (len) {
		bytes_write(&in->now, off, buf, len);
		file_change_add(in, FILE_WRITE, off, buf, len);
	}
	return err ? err : (ssize_t)len;
}

static int sim_size(void *ctx, int fd, uint64_t *size)
{
	struct sim_fs *sfs = ctx;
	struct inode *in = inode_of(sfs, fd);

	if (sfs->dead)
		return -EIO;
	if (!in)
		return -EBADF;
	*size = in->now.len;
	return 0;
}

static int sim_truncate(void *ctx, int fd, uint64_t size)
{
	struct sim_fs *sfs = ctx;
	struct inode *in = inode_of(sfs, fd);
	int err = change(sfs);

	if (err)
		return err;
	if (!in)
		return -EBADF;
	bytes_resize(&in->now, size);
	file_change_add(in, FILE_TRUNCATE, 0, NULL, size);
	return 0;
}

static int sim_sync(void *ctx, int fd)
{
	struct sim_fs *sfs = ctx;
	struct handle *h = fd >= 0 && fd < MAX_HANDLES ? &sfs->handles[fd] : NULL;
	int err = change(sfs);

	if (err)
		return err;
	if (!h || !h->used)
		return -EBADF;
	sfs->stats.syncs++;
	if (prng_chance(&sfs->prng, sfs->faults.sync_error_permille)) {
		sfs->stats.sync_errors++;
		return -EIO;
	}
	if (h->is_dir) {
		struct dir *d = &sfs->dirs[h->idx];

		names_copy(&d->durable, &d->now);
		d->n_pending = 0;
	} else {
		struct inode *in = &sfs->inodes[h->idx];

		bytes_copy(&in->durable, &in->now);
		file_changes_clear(in);
	}
	return 0;
}

static int sim_rename(void *ctx, int dirfd, const char *from, const char *to)
{
	struct sim_fs *sfs = ctx;
	struct dir *d = dir_of(sfs, dirfd);
	struct name *e;
	int err = change(sfs), ino;

	if (err)
		return err;
	if (!d)
		return -EBADF;
	if (strlen(to) >= NAME_LEN)
		return -ENAMETOOLONG;
	e = names_find(&d->now, from);
	if (!e)
		return -ENOENT;
	ino = e->ino;
	/* The target is replaced atomically: a crash keeps both halves or neither. */
	dir_change_add(d, DIR_LINK, to, ino);
	dir_change_add(d, DIR_UNLINK, from, ino);
	return 0;
}

static int sim_unlink(void *ctx, int dirfd, const char *name)
{
	struct sim_fs *sfs = ctx;
	struct dir *d = dir_of(sfs, dirfd);
	int err = change(sfs);

	if (err)
		return err;
	if (!d)
		return -EBADF;
	if (!names_find(&d->now, name))
		return -ENOENT;
	dir_change_add(d, DIR_UNLINK, name, -1);
	return 0;
}

static void sim_close(void *ctx, int fd)
{
	struct sim_fs *sfs = ctx;

	if (fd >= 0 && fd < MAX_HANDLES)
		sfs->handles[fd].used = false;
}

static const struct fs_ops sim_fs_ops_table = {
	.mkdir = sim_mkdir,
	.open_dir = sim_open_dir,
	.list = sim_list,
	.open = sim_open,
	.pread = sim_pread,
	.pwrite = sim_pwrite,
	.size = sim_size,
	.truncate = sim_truncate,
	.sync = sim_sync,
	.rename = sim_rename,
	.unlink = sim_unlink,
	.close = sim_close,
};

/* ---- crashes ---- */

/* What a crash leaves of a file: durable data plus a prefix of the rest. */
static void inode_crash(struct sim_fs *sfs, struct inode *in)
{
	size_t keep = prng_below(&sfs->prng, in->n_pending + 1), i;
	struct bytes b = { NULL, 0 };

	bytes_copy(&b, &in->durable);
	for (i = 0; i < keep; i++) {
		const struct file_change *c = &in->pending[i];

		if (c->kind == FILE_WRITE)
			bytes_write(&b, c->off, c->data, c->len);
		else
			bytes_resize(&b, c->len);
	}
	if (keep < in->n_pending && in->pending[keep].kind == FILE_WRITE &&
	    prng_below(&sfs->prng, 2)) {
		const struct file_change *c = &in->pending[keep];
		size_t cut = prng_below(&sfs->prng, c->len);

		bytes_write(&b, c->off, c->data, cut);
		/* The size reached the disk, the data did not. */
		if (prng_below(&sfs->prng, 2) && c->off + c->len > b.len)
			bytes_resize(&b, c->off + c->len);
		sfs->stats.torn_writes++;
	}
	sfs->stats.lost_writes += in->n_pending - keep;
	file_changes_clear(in);
	bytes_copy(&in->now, &b);
	bytes_copy(&in->durable, &b);
	free(b.p);
}

static void dir_crash(struct sim_fs *sfs, struct dir *d)
{
	size_t keep = prng_below(&sfs->prng, d->n_pending + 1), i;

	/* A rename's two halves go together. */
	if (keep && keep < d->n_pending && d->pending[keep - 1].kind == DIR_LINK &&
	    d->pending[keep].kind == DIR_UNLINK && d->pending[keep].ino == d->pending[keep - 1].ino)
		keep++;
	for (i = 0; i < keep; i++)
		dir_change_apply(&d->durable, &d->pending[i]);
	d->n_pending = 0;
	names_copy(&d->now, &d->durable);
}

void sim_fs_crash(struct sim_fs *sfs)
{
	size_t i;

	for (i = 0; i < sfs->n_inodes; i++)
		inode_crash(sfs, &sfs->inodes[i]);
	for (i = 0; i < sfs->n_dirs; i++)
		dir_crash(sfs, &sfs->dirs[i]);
	memset(sfs->handles, 0, sizeof(sfs->handles));
	memset(&sfs->faults, 0, sizeof(sfs->faults));
	sfs->faults.changes_until_death = -1;
	sfs->dead = false;
	sfs->stats.crashes++;
}

void sim_fs_restart(struct sim_fs *sfs)
{
	memset(sfs->handles, 0, sizeof(sfs->handles));
	memset(&sfs->faults, 0, sizeof(sfs->faults));
	sfs->faults.changes_until_death = -1;
}

/* ---- life cycle ---- */

struct sim_fs *sim_fs_new(uint64_t seed)
{
	struct sim_fs *sfs = calloc(1, sizeof(*sfs));

	if (!sfs)
		return NULL;
	sfs->fs.ops = &sim_fs_ops_table;
	sfs->fs.ctx = sfs;
	sfs->faults.changes_until_death = -1;
	prng_seed(&sfs->prng, seed);
	return sfs;
}

void sim_fs_free(struct sim_fs *sfs)
{
	size_t i;

	if (!sfs)
		return;
	for (i = 0; i < sfs->n_inodes; i++) {
		file_changes_clear(&sfs->inodes[i]);
		free(sfs->inodes[i].pending);
		free(sfs->inodes[i].now.p);
		free(sfs->inodes[i].durable.p);
	}
	for (i = 0; i < sfs->n_dirs; i++) {
		free(sfs->dirs[i].now.e);
		free(sfs->dirs[i].durable.e);
		free(sfs->dirs[i].pending);
	}
	free(sfs->inodes);
	free(sfs->dirs);
	free(sfs);
}

const struct fs *sim_fs_ops(struct sim_fs *sfs)
{
	return &sfs->fs;
}

void sim_fs_set_faults(struct sim_fs *sfs, const struct sim_fs_faults *faults)
{
	sfs->faults = *faults;
}

bool sim_fs_dead(const struct sim_fs *sfs)
{
	return sfs->dead;
}

void sim_fs_stats(const struct sim_fs *sfs, struct sim_fs_stats *st)
{
	*st = sfs->stats;
}
