/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A private directory for the harnesses that fuzz files (the WAL, the
 * snapshot): made once, under $TMPDIR or /dev/shm (fast, and nothing to
 * sync), emptied before each input, removed at exit.
 */
#ifndef KLB_FUZZ_DIR_H
#define KLB_FUZZ_DIR_H

#include <stddef.h>

/* The directory's path; aborts if it cannot be made. */
const char *fuzz_dir(void);
/* Removes every file in it (it holds no directories). */
void fuzz_dir_clear(void);
/* Writes a whole file in it; aborts on failure. */
void fuzz_dir_write(const char *name, const void *data, size_t len);

#endif
