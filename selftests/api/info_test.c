// SPDX-License-Identifier: GPL-2.0
/*
 * KLB_CMD_INFO_GET reports the limits the kernel applies. A module
 * parameter set past what the API can express (max_backends above 65535
 * ids, max_table_size above KLB_TABLE_SIZE_LIMIT) is reported as the limit
 * in force, so a client planning against INFO never meets a refusal the
 * figures did not announce.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "api_test.h"

FIXTURE(info)
{
	struct api_nl nl;
	unsigned int saved_backends;
	unsigned int saved_table;
};

FIXTURE_SETUP(info)
{
	ASSERT_EQ(0, api_param_read("max_backends", &self->saved_backends));
	ASSERT_EQ(0, api_param_read("max_table_size", &self->saved_table));
	ASSERT_EQ(0, api_enter_new_netns());
	ASSERT_EQ(0, api_open(&self->nl)) TH_LOG("no klb family: is klb.ko loaded?");
}

FIXTURE_TEARDOWN(info)
{
	api_param_write("max_backends", self->saved_backends);
	api_param_write("max_table_size", self->saved_table);
	api_close(&self->nl);
}

TEST_F(info, limits_past_the_api_report_what_applies)
{
	struct api_info info;

	ASSERT_EQ(0, api_param_write("max_backends", 100000));
	ASSERT_EQ(0, api_param_write("max_table_size", 4000000));
	ASSERT_EQ(0, api_info_get(&self->nl, &info, NULL));
	EXPECT_EQ(KLB_BACKEND_ID_MAX + 1, info.max_backends);
	EXPECT_EQ(KLB_TABLE_SIZE_LIMIT, info.max_table_size);
}

TEST_HARNESS_MAIN
