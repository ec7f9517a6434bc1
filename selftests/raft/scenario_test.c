// SPDX-License-Identifier: GPL-2.0
/*
 * Runs every scripted scenario under selftests/raft/scenarios, one test per
 * file. The directory is $RAFT_SCENARIOS, else found from the program's path
 * (build/selftests/raft/ -> selftests/raft/scenarios).
 */
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "scenario.h"

static void scenario_path(const char *file, char *out, size_t len)
{
	const char *dir = getenv("RAFT_SCENARIOS");
	char exe[PATH_MAX];
	ssize_t n;

	if (dir) {
		snprintf(out, len, "%s/%s", dir, file);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(out, len, "%s/../../../selftests/raft/scenarios/%s", dirname(exe), file);
}

#define SCENARIO(name)								\
	TEST(name)								\
	{									\
		char path[PATH_MAX + 64], err[1024];				\
										\
		scenario_path(#name ".txt", path, sizeof(path));		\
		if (scenario_run_file(path, err, sizeof(err)))			\
			TH_LOG("%s", err);					\
		ASSERT_EQ(0, err[0]);						\
	}

SCENARIO(election)
SCENARIO(vote_rules)
SCENARIO(prevote)
SCENARIO(check_quorum)
SCENARIO(replication)
SCENARIO(log_repair)
SCENARIO(figure8)
SCENARIO(commit_rules)
SCENARIO(flow_control)
SCENARIO(proposal_limits)
SCENARIO(leader_transfer)
SCENARIO(membership)
SCENARIO(snapshot)
SCENARIO(read_index)
SCENARIO(restart)

/* The interpreter itself must reject what it cannot run. */
TEST(interpreter_rejects_bad_scripts)
{
	char err[256];

	EXPECT_NE(0, scenario_run_text("t", "cluster\n", err, sizeof(err)));
	EXPECT_NE(0, scenario_run_text("t", "cluster 1 2 3\nfrobnicate 1\n", err, sizeof(err)));
	EXPECT_NE(0, scenario_run_text("t", "cluster 1 2 3\nexpect 1 role=leader\n", err,
				       sizeof(err)));
	EXPECT_NE(0, scenario_run_text("t", "cluster 1\ncampaign 1 -> EPERM\n", err, sizeof(err)));
	EXPECT_EQ(0, scenario_run_text("t", "cluster 1\ncampaign 1\nexpect 1 role=leader\n", err,
				       sizeof(err)));
}

TEST_HARNESS_MAIN
