// SPDX-License-Identifier: GPL-2.0
/*
 * klbd.conf: a good file, defaults, and every kind of error named by file
 * and line (a table of cases).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The registration endpoint and its token, read as the key is. */
TEST(register_and_its_token)
{
	static const char text[] =
		"[node]\nid = 1\nregister = 10.0.0.1:9560\n"
		"register-token-file = /tmp/klbd-config-test-token\n"
		"[peers]\n1 = 192.0.2.1:7400\n";
	const char *path = "/tmp/klbd-config-test-token";
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX], tok[REG_TOKEN_MAX];
	size_t len = 0;
	FILE *f;

	ASSERT_EQ(0, klbd_config_parse(&cfg, "k.conf", text, strlen(text), err,
				       sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ("10.0.0.1:9560", cfg.reg);
	EXPECT_STREQ(path, cfg.reg_token_file);
	unlink(path);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("0123456789abcdef-token\n", f);
	fclose(f);
	/* Others may read it: refused, as the key file is. */
	chmod(path, 0644);
	EXPECT_EQ(-1, klbd_config_load_token(&cfg, tok, &len, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "readable by others")) TH_LOG("%s", err);
	chmod(path, 0640);
	ASSERT_EQ(0, klbd_config_load_token(&cfg, tok, &len, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(22, len);
	EXPECT_EQ(0, memcmp(tok, "0123456789abcdef-token", 22));
	/* Too short, or with a space. */
	f = fopen(path, "w");
	fputs("short\n", f);
	fclose(f);
	EXPECT_EQ(-1, klbd_config_load_token(&cfg, tok, &len, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "the token must be 16 to 255")) TH_LOG("%s", err);
	f = fopen(path, "w");
	fputs("0123456789 abcdef-token\n", f);
	fclose(f);
	EXPECT_EQ(-1, klbd_config_load_token(&cfg, tok, &len, err, sizeof(err)));
	unlink(path);
	EXPECT_EQ(-1, klbd_config_load_token(&cfg, tok, &len, err, sizeof(err)));
}

/* The bootstrap services' file: read at start, its errors FILE:LINE. */
TEST(bootstrap_services)
{
	static const char text[] =
		"[node]\nid = 1\nbootstrap-services = /tmp/klbd-config-test-boot\n"
		"[peers]\n1 = 192.0.2.1:7400\n";
	const char *path = "/tmp/klbd-config-test-boot";
	struct restore_service *svcs;
	struct klbd_config cfg;
	char err[KLBD_CONFIG_ERR_MAX + 128];
	size_t n = 99;
	FILE *f;

	ASSERT_EQ(0, klbd_config_parse(&cfg, "k.conf", text, strlen(text), err,
				       sizeof(err))) TH_LOG("%s", err);
	EXPECT_STREQ(path, cfg.bootstrap_services);
	/* A missing file is an error, naming the setting and the file. */
	unlink(path);
	EXPECT_EQ(-1, klbd_config_load_bootstrap(&cfg, &svcs, &n, err, sizeof(err)));
	EXPECT_STREQ("k.conf: bootstrap-services /tmp/klbd-config-test-boot: No such file or directory",
		     err);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("# klbctl save 1\nservice tcp 192.0.2.10:80\nbackend 192.0.2.20:80\n"
	      "service udp [2001:db8::10]:53 sched wrr\n", f);
	fclose(f);
	ASSERT_EQ(0, klbd_config_load_bootstrap(&cfg, &svcs, &n, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(2, n);
	EXPECT_EQ(1, svcs[0].nr_backends);
	EXPECT_NE(NULL, svcs[0].table);		/* computed: Maglev by default */
	EXPECT_EQ(NULL, svcs[1].table);
	EXPECT_EQ(4, svcs[1].line);
	restore_free(svcs, n);
	/* A bad line: the file and the line, nothing to free. */
	f = fopen(path, "w");
	fputs("service tcp 192.0.2.10:80\n\nbackend 192.0.2.20:80 weight x\n", f);
	fclose(f);
	n = 99;
	EXPECT_EQ(-1, klbd_config_load_bootstrap(&cfg, &svcs, &n, err, sizeof(err)));
	EXPECT_STREQ("/tmp/klbd-config-test-boot:3: weight 'x' out of range (0..65535)",
		     err);
	EXPECT_EQ(0, n);
	EXPECT_EQ(NULL, svcs);
	unlink(path);
	/* Unset: nothing to read. */
	cfg.bootstrap_services[0] = '\0';
	n = 99;
	EXPECT_EQ(0, klbd_config_load_bootstrap(&cfg, &svcs, &n, err, sizeof(err)));
	EXPECT_EQ(0, n);
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
	{ "[node]\nid = 1\nregister = 10.0.0.1\n",
	  "f.conf:3: register must be IPV4:PORT or [IPV6]:PORT, not '10.0.0.1'" },
	{ "[node]\nid = 1\nregister = 10.0.0.1:9560\n[peers]\n1 = 192.0.2.1:7400\n",
	  "f.conf:3: register needs register-token-file" },
	{ "[node]\nid = 1\nregister-token-file = /t\n[peers]\n1 = 192.0.2.1:7400\n",
	  "f.conf:3: register-token-file without register" },
	{ "[node]\nid = 1\nregister-token-file = t\n",
	  "f.conf:3: register-token-file must be an absolute path" },
	{ "[node]\nid = 1\nmetrics = 10.0.0.1:1\nregister = 10.0.0.1:1\n"
	  "register-token-file = /t\n[peers]\n1 = 192.0.2.1:7400\n",
	  "f.conf:4: register must not be the listen or metrics address (10.0.0.1:1)" },
	{ "[node]\nid = 1\nregister = 10.0.0.1:2\nregister = 10.0.0.1:1\n",
	  "f.conf:4: [node] register set twice (first on line 3)" },
	{ "[node]\nid = 1\nbootstrap-services = boot.save\n",
	  "f.conf:3: bootstrap-services must be an absolute path" },
	{ "[node]\nbootstrap-services = /a\nbootstrap-services = /b\n",
	  "f.conf:3: [node] bootstrap-services set twice (first on line 2)" },
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
