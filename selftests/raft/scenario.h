/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interpreter for scripted Raft scenarios (the .txt files in
 * selftests/raft/scenarios).
 * The format is described in scenarios/README.
 */
#ifndef KLB_RAFT_SCENARIO_H
#define KLB_RAFT_SCENARIO_H

#include <stddef.h>

/* Runs one scenario file; 0 on success, else -1 with a message in err. */
int scenario_run_file(const char *path, char *err, size_t err_len);
/* Same for a script held in memory ('name' is used in messages). */
int scenario_run_text(const char *name, const char *text, char *err, size_t err_len);

#endif
