/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pieces shared by the API test programs. Include after
 * kselftest_harness.h.
 *
 * Every test runs in its own child (the harness forks), and the fixtures
 * move that child into a fresh network namespace first: klb's state is
 * per netns, so each test starts from nothing and leaves nothing behind
 * but a namespace for the kernel to tear down.
 */

#ifndef API_TEST_H
#define API_TEST_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_klb.h"

/* A request rejected with @errno_, an extack message and no change. */
#define ASSERT_REJECTED(errno_, ret, err) do { \
	int __ret = (ret); \
	ASSERT_EQ(-(errno_), __ret) \
		TH_LOG("expected %s, got %s (extack: \"%s\")", \
		       strerror(errno_), strerror(-__ret), (err)->msg); \
	ASSERT_TRUE((err)->has_msg) \
		TH_LOG("%s without an extack message", strerror(errno_)); \
	ASSERT_NE(0, strlen((err)->msg)); \
} while (0)

#define ASSERT_UNCHANGED(nl, before) do { \
	uint64_t __after = 0; \
	ASSERT_EQ(0, api_fingerprint(nl, &__after)); \
	ASSERT_EQ(before, __after) TH_LOG("a rejected request changed state"); \
} while (0)

/* The same for what is published, when a failed commit ends a transaction. */
#define ASSERT_PUBLISHED_UNCHANGED(nl, before) do { \
	uint64_t __after = 0; \
	ASSERT_EQ(0, api_fingerprint_published(nl, &__after)); \
	ASSERT_EQ(before, __after) TH_LOG("a rejected commit changed state"); \
} while (0)

static inline int api_enter_new_netns(void)
{
	return unshare(CLONE_NEWNET) ? -errno : 0;
}

/* Reads or writes a module parameter of klb.ko. */
static inline int api_param_read(const char *name, unsigned int *val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/klb/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%u", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static inline int api_param_write(const char *name, unsigned int val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/klb/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%u\n", val) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* A test's seed: KLB_SEED if set, else a fresh one. Always printed. */
static inline unsigned long long api_seed(void)
{
	const char *env = getenv("KLB_SEED");
	unsigned long long seed;
	struct timespec ts;

	if (env && *env) {
		seed = strtoull(env, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (unsigned long long)ts.tv_sec * 1000000007ULL ^
		       (unsigned long long)ts.tv_nsec ^
		       ((unsigned long long)getpid() << 32);
	}
	printf("# seed %llu (reproduce with KLB_SEED=%llu)\n", seed, seed);
	fflush(stdout);
	return seed;
}

/* xorshift64*: a small, seeded generator for tables and fuzzing. */
static inline uint64_t api_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

#endif /* API_TEST_H */
