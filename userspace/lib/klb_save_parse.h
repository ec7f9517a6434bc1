/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a save file (klbctl(8), SAVE FORMAT): klbctl restore's input,
 * and klbd's bootstrap services (klbd.conf(5)). One parser for both, so
 * that a file klbctl restores is a file klbd bootstraps, and the reverse.
 */
#ifndef KLB_SAVE_PARSE_H
#define KLB_SAVE_PARSE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/klb_client.h"
#include "lib/klbd_proto.h"

/* Room for any error restore_parse() gives (a long NAME is cut). */
#define KLB_SAVE_ERR_MAX	(PATH_MAX + 256)

/* RFC 4648's, for the table lines (klbctl save writes them). */
extern const char klb_save_b64_alphabet[65];

/* One service of the file, with everything its lines gave. */
struct restore_service {
	struct klb_service_key key;
	struct klb_service_conf conf;	/* every field */
	struct klb_backend *backends;
	size_t nr_backends;
	uint16_t *table;		/* conf.table_size entries, or NULL */
	struct klbd_check check;	/* fields 0: none given */
	unsigned int line;
};

/*
 * The file read from in into *svcs and *n, every check done (a service
 * without a seed gets a random one, as 'service add' gives). Returns 0
 * (the caller frees with restore_free()), or -errno with nothing to free
 * and err (err_len bytes) saying why: -EINVAL for a bad line, the error
 * naming it, "NAME:LINE: problem" (name NULL: "line LINE: problem");
 * -ENOMEM; or a read error, "reading NAME: ...".
 */
int restore_parse(FILE *in, const char *name, struct restore_service **svcs,
		  size_t *n, char *err, size_t err_len);
/*
 * The same of text in memory (len bytes), cut in parts that threads parse
 * when it is large enough to be worth it. *parts: at most how many (0: one
 * per CPU); on return, how many parsed it (1: in one piece, as every
 * failure is parsed again so that its error is the one one piece gives).
 */
int restore_parse_text(const char *text, size_t len, const char *name,
		       unsigned int *parts, struct restore_service **svcs,
		       size_t *n, char *err, size_t err_len);
void restore_free(struct restore_service *svcs, size_t n);

#endif
