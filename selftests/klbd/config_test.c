// SPDX-License-Identifier: GPL-2.0
/*
 * klbd.conf: a good file, defaults, and every kind of error named by file
 * and line (a table of cases).
 */
#include <string.h>

#include "kselftest_harness.h"
#include "klbd/config.h"

static const char good[] =
	"# a gateway\n"
	"[node]\n"
	"id = 2\n"
	"data-dir = /var/lib/klb\n"
	"\n"
	"[peers]\n"
	"1 = 192.0.2.1:7400\n"
	"2 = [2001:db8::2]:7400\n"
	"3 = 192.0.2.3:7400\n"
	"[raft]\n"
	"tick-ms = 50\n";

TEST(good_file_and_defaults)
{
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX];

	ASSERT_EQ(0, klbd_config_parse(&cfg, "k.conf", good, strlen(good), err,
				       sizeof(err)));
	EXPECT_EQ(2, cfg.id);
	EXPECT_EQ(3, cfg.n_peers);
	EXPECT_STREQ("[2001:db8::2]:7400", cfg.listen);	/* its own peer address */
	EXPECT_EQ(AF_INET6, cfg.listen_sa.sa.ss_family);
	EXPECT_EQ(50, cfg.tick_ms);
	EXPECT_EQ(10, cfg.election_ticks);
	EXPECT_STREQ("/run/klbd/control.sock", cfg.control_socket);
	EXPECT_STREQ("/etc/klb/cluster.key", cfg.key_file);
	EXPECT_STREQ("/etc/klb/checks", cfg.checks_dir);
	EXPECT_EQ(8, cfg.peers[1].line);
	EXPECT_FALSE(cfg.join);
	EXPECT_STREQ("", cfg.metrics);			/* off unless set */
}

TEST(join)
{
	static const char text[] =
		"[node]\nid = 4\njoin = yes\n[peers]\n4 = 192.0.2.4:7400\n";
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX];

	ASSERT_EQ(0, klbd_config_parse(&cfg, "k.conf", text, strlen(text), err,
				       sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(cfg.join);
	EXPECT_EQ(1, cfg.n_peers);
}

TEST(metrics_address)
{
	static const char text[] =
		"[node]\nid = 1\nmetrics = [::1]:9550\n[peers]\n1 = 192.0.2.1:7400\n";
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX];

	ASSERT_EQ(0, klbd_config_parse(&cfg, "k.conf", text, strlen(text), err,
				       sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("[::1]:9550", cfg.metrics);
	EXPECT_EQ(AF_INET6, cfg.metrics_sa.sa.ss_family);
}

static const struct {
	const char *text;
	const char *err;
} bad[] = {
	{ "[node]\nid = 0\n", "f.conf:2: node id must be a number from 1" },
	{ "[node]\nid = 1\nid = 1\n", "f.conf:3: [node] id set twice (first on line 2)" },
	{ "[node]\nid = x1\n", "f.conf:2: node id" },
	{ "[node]\nid = 1\n[peers]\n1 = 192.0.2.1\n", "f.conf:4: peer 1: the address" },
	{ "[node]\nid = 1\n[peers]\n1 = 192.0.2.1:0\n", "f.conf:4: peer 1: the address" },
	{ "[node]\nid = 1\n[peers]\n1 = 192.0.2.1:1\n1 = 192.0.2.2:1\n",
	  "f.conf:5: peer 1 listed twice (first on line 4)" },
	{ "[node]\nid = 1\n[peers]\nx = 192.0.2.1:1\n", "f.conf:4: a peer is" },
	{ "[node]\nid = 1\nbogus\n", "f.conf:3: syntax error" },
	{ "[node\nid = 1\n", "f.conf:1: syntax error" },
	{ "[nodes]\nid = 1\n", "f.conf:2: unknown section [nodes]" },
	{ "id = 1\n", "f.conf:1: 'id' outside any section" },
	{ "[node]\nidd = 1\n", "f.conf:2: unknown setting 'idd' in [node]" },
	{ "[node]\ndata-dir = var/lib\n", "f.conf:2: data-dir must be an absolute path" },
	{ "[node]\nchecks-dir = checks\n", "f.conf:2: checks-dir must be an absolute path" },
	{ "[node]\nchecks-dir = /a\nchecks-dir = /b\n",
	  "f.conf:3: [node] checks-dir set twice (first on line 2)" },
	{ "[raft]\ntick-ms = 5\n", "f.conf:2: tick-ms must be a number from 10" },
	{ "[node]\njoin = true\n", "f.conf:2: join must be yes or no, not 'true'" },
	{ "[node]\njoin = yes\njoin = no\n", "f.conf:3: [node] join set twice" },
	{ "[raft]\nfoo = 5\n", "f.conf:2: unknown setting 'foo' in [raft]" },
	{ "[peers]\n1 = 192.0.2.1:1\n", "f.conf: [node] id is missing" },
	{ "[node]\nid = 1\n", "f.conf: [peers] is missing" },
	{ "[node]\nid = 4\n[peers]\n1 = 192.0.2.1:1\n", "f.conf:2: node id 4 is not in [peers]" },
	{ "[node]\nid = 1\n[peers]\n1 = 192.0.2.1:1\n[raft]\nheartbeat-ticks = 6\n",
	  "f.conf:6: heartbeat-ticks (6) must be at most half" },
	{ "[node]\nid = 1\n[node]\ncontrol-socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "f.conf:4: control-socket is longer than" },
	{ "[node]\nid = 1\nmetrics = 127.0.0.1\n",
	  "f.conf:3: metrics must be IPV4:PORT or [IPV6]:PORT, not '127.0.0.1'" },
	{ "[node]\nid = 1\nmetrics =\n", "f.conf:3: metrics must be IPV4:PORT" },
	{ "[node]\nid = 1\nmetrics = localhost:9550\n", "f.conf:3: metrics must be" },
	{ "[node]\nid = 1\nmetrics = 127.0.0.1:9550\nmetrics = 127.0.0.1:9551\n",
	  "f.conf:4: [node] metrics set twice (first on line 3)" },
	{ "[node]\nid = 1\n\nmetrics = 192.0.2.1:7400\n[peers]\n1 = 192.0.2.1:7400\n",
	  "f.conf:4: metrics and listen are the same address (192.0.2.1:7400)" },
};

TEST(errors_name_file_and_line)
{
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, klbd_config_parse(&cfg, "f.conf", bad[i].text,
						strlen(bad[i].text), err, sizeof(err)));
		EXPECT_EQ(0, strncmp(err, bad[i].err, strlen(bad[i].err)))
			TH_LOG("case %zu: got '%s', want '%s...'", i, err, bad[i].err);
	}
}

TEST(long_line_and_nul_refused)
{
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX], text[600];

	memset(text, 'a', sizeof(text));
	memcpy(text, "[node]\nid = 1\n# ", 16);
	text[sizeof(text) - 1] = '\n';
	EXPECT_EQ(-1, klbd_config_parse(&cfg, "f.conf", text, sizeof(text), err,
					sizeof(err)));
	EXPECT_EQ(0, strncmp(err, "f.conf:3: line longer than", 26)) TH_LOG("%s", err);
	EXPECT_EQ(-1, klbd_config_parse(&cfg, "f.conf", "[node]\nid\0 = 1\n", 15,
					err, sizeof(err)));
	EXPECT_EQ(0, strncmp(err, "f.conf:2: a NUL byte", 20)) TH_LOG("%s", err);
}

TEST(addresses)
{
	struct klbd_addr a;

	EXPECT_EQ(0, klbd_parse_addr("192.0.2.1:1", &a));
	EXPECT_EQ(0, klbd_parse_addr("[2001:db8::1]:65535", &a));
	EXPECT_EQ(-1, klbd_parse_addr("2001:db8::1:80", &a));
	EXPECT_EQ(-1, klbd_parse_addr("[2001:db8::1:80", &a));
	EXPECT_EQ(-1, klbd_parse_addr("192.0.2.1:65536", &a));
	EXPECT_EQ(-1, klbd_parse_addr("host.example:80", &a));
	EXPECT_EQ(-1, klbd_parse_addr(":80", &a));
	EXPECT_EQ(-1, klbd_parse_addr("192.0.2.1:+80", &a));
}

TEST_HARNESS_MAIN
