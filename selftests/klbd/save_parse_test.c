// SPDX-License-Identifier: GPL-2.0
/*
 * The save format's reader (lib/klb_save_parse.h), which klbctl restore
 * and klbd's bootstrap services share: what a good file gives, and every
 * error named by its line, as "line N:" for klbctl and "FILE:N:" for
 * klbd, into the caller's buffer (a table of cases).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lib/klb_save_parse.h"

/* text parsed as file name (NULL: unnamed): restore_parse()'s result. */
static int parse(const char *text, const char *name, struct restore_service **svcs,
		 size_t *n, char *err, size_t err_len)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int ret;

	if (!in)
		return -1000;
	ret = restore_parse(in, name, svcs, n, err, err_len);
	fclose(in);
	return ret;
}

TEST(a_good_file)
{
	static const char text[] =
		"# klbctl save 1\n"
		"service tcp 192.0.2.1:80 sched maglev fwd nat table-size 7 bound 150 affinity src down-policy drop seed 000102030405060708090a0b0c0d0e0f check http:204 interval 2000\n"
		"backend 192.0.2.2:80 id 3 weight 5 state drain\n"
		"backend 192.0.2.3:80\n"
		"table AwADAAADAA==\n"
		"\n"
		"service udp [2001:db8::53]:53 sched wrr\n"
		"backend [2001:db8::1]:53 weight 2\n";
	struct restore_service *svcs, *again;
	char err[KLB_SAVE_ERR_MAX];
	size_t n, m, i;

	ASSERT_EQ(0, parse(text, NULL, &svcs, &n, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(2, n);
	EXPECT_EQ(2, svcs[0].line);
	EXPECT_EQ(7, svcs[0].conf.table_size);
	EXPECT_EQ(150, svcs[0].conf.bound);
	EXPECT_EQ(KLB_SVC_F_AFFINITY_SRC | KLB_SVC_F_DOWN_DROP, svcs[0].conf.flags);
	EXPECT_EQ(15, svcs[0].conf.seed[15]);
	EXPECT_EQ(KLBD_CHECK_HTTP, svcs[0].check.type);
	EXPECT_EQ(204, svcs[0].check.http_status);
	EXPECT_EQ(2000, svcs[0].check.interval_ms);
	ASSERT_EQ(2, svcs[0].nr_backends);
	EXPECT_EQ(3, svcs[0].backends[0].id);
	EXPECT_EQ(KLB_BACKEND_DRAIN, svcs[0].backends[0].state);
	EXPECT_EQ(0, svcs[0].backends[1].id);	/* the lowest free */
	/* The table as written: 3 0 3 0 0 3 0. */
	ASSERT_NE(NULL, svcs[0].table);
	EXPECT_EQ(3, svcs[0].table[0]);
	EXPECT_EQ(0, svcs[0].table[1]);
	EXPECT_EQ(3, svcs[0].table[5]);
	/* No table for wrr; no check given; the defaults. */
	EXPECT_EQ(NULL, svcs[1].table);
	EXPECT_EQ(0, svcs[1].check.fields);
	EXPECT_EQ(KLB_TABLE_SIZE_DEFAULT, svcs[1].conf.table_size);
	EXPECT_EQ(AF_INET6, svcs[1].backends[0].addr.family);
	EXPECT_EQ(2, svcs[1].backends[0].weight);
	/* A service without a seed gets a fresh one each time. */
	ASSERT_EQ(0, parse(text, NULL, &again, &m, err, sizeof(err)));
	for (i = 0; i < KLB_SEED_LEN && svcs[1].conf.seed[i] == again[1].conf.seed[i]; i++)
		;
	EXPECT_LT(i, KLB_SEED_LEN);
	restore_free(again, m);
	restore_free(svcs, n);
}

/* A Maglev service without a table line gets the one 'backend add' builds. */
TEST(a_hand_written_file_gets_its_table)
{
	static const char text[] =
		"service tcp 192.0.2.1:80 table-size 7\n"
		"backend 192.0.2.2:80\nbackend 192.0.2.3:80\n"
		"service tcp 192.0.2.4:80 table-size 7\n";
	struct restore_service *svcs;
	char err[KLB_SAVE_ERR_MAX];
	size_t n, i, counts[2] = { 0 };

	ASSERT_EQ(0, parse(text, "f.save", &svcs, &n, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(2, n);
	ASSERT_NE(NULL, svcs[0].table);
	for (i = 0; i < 7; i++) {
		ASSERT_LT(svcs[0].table[i], 2);
		counts[svcs[0].table[i]]++;
	}
	EXPECT_GE(counts[0], 3);
	EXPECT_GE(counts[1], 3);
	/* No backend, no table. */
	EXPECT_EQ(NULL, svcs[1].table);
	restore_free(svcs, n);
}

static const struct {
	const char *text;
	const char *err;	/* unnamed; named, "f.save:" replaces "line " */
} bad[] = {
	{ "service tcp 192.0.2.1:80\ncolour blue\n",
	  "line 2: unknown keyword 'colour' (want service, backend or table)" },
	{ "backend 192.0.2.2:80\n", "line 1: 'backend' before any 'service' line" },
	{ "service tcp 192.0.2.1:80\nbackend 192.0.2.2:80 weight 70000\n",
	  "line 2: weight '70000' out of range (0..65535)" },
	{ "service tcp 192.0.2.1:80\nservice tcp 192.0.2.1:80\n",
	  "line 2: service tcp 192.0.2.1:80 already given on line 1" },
	{ "service tcp 192.0.2.1:80\nbackend [2001:db8::2]:80\n",
	  "line 2: backend [2001:db8::2]:80: address family differs from the service's" },
	{ "service tcp 192.0.2.1:80 table-size 100\n",
	  "line 1: table size 100 is not a prime in 7..1048573" },
	{ "service sctp 192.0.2.1:80\n", "line 1: protocol must be tcp or udp, not 'sctp'" },
	{ "service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80\ntable AAAA\n",
	  "line 3: table is not the base64 of 7 ids (8 or 16 bits each)" },
	{ "service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80\ntable AQEBAQEBAQ==\n",
	  "line 4: table of the service of line 1: slot 0 names backend id 1, which the service does not have" },
	{ "table AwADAAADAA==\n", "line 1: 'table' before any 'service' line" },
	{ "service tcp 192.0.2.1:80 table-size 7\ntable\n",
	  "line 2: 'table' needs one base64 word" },
	{ "service tcp 192.0.2.1:80 table-size 7\ntable AwADAA ADAA==\n",
	  "line 2: 'table' needs one base64 word" },
	{ "service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80\n"
	  "table AwADAAADAA==\ntable AwADAAADAA==\n",
	  "line 4: a second table for the service" },
	{ "service tcp 192.0.2.1:80 check tcp interval 10\n",
	  "line 1: check interval must be 50 to 3600000 ms, not 10" },
	{ "\n\n\nservice tcp 192.0.2.1:80 seed 00\n",
	  "line 4: seed '00' is not 32 hex digits" },
};

TEST(errors_name_the_line_and_the_file)
{
	struct restore_service *svcs = (void *)1;
	char err[KLB_SAVE_ERR_MAX], want[256];
	size_t i, n = 99;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, parse(bad[i].text, NULL, &svcs, &n, err, sizeof(err)));
		EXPECT_EQ(0, strncmp(err, bad[i].err, strlen(bad[i].err)))
			TH_LOG("case %zu: got '%s', want '%s...'", i, err, bad[i].err);
		EXPECT_EQ(NULL, svcs);
		EXPECT_EQ(0, n);
		/* klbd's: the file's name where klbctl says "line ". */
		snprintf(want, sizeof(want), "/etc/klb/boot.save:%s", bad[i].err + 5);
		EXPECT_EQ(-EINVAL, parse(bad[i].text, "/etc/klb/boot.save", &svcs, &n,
					 err, sizeof(err)));
		EXPECT_EQ(0, strncmp(err, want, strlen(want)))
			TH_LOG("case %zu: got '%s', want '%s...'", i, err, want);
	}
}

/*
 * Words are split at spaces, tabs and carriage returns, any number of
 * them, around a table's word as around any other; 64 words fit on a
 * line, a 65th is refused by line.
 */
TEST(words_and_their_limit)
{
	static const char blanks[] =
		"  service\ttcp \t 192.0.2.1:80   table-size\t7\r\n"
		"\t\r\n"
		"backend 192.0.2.2:80\tweight  4 \r\n";
	static const char table_blanks[] =
		"service tcp 192.0.2.1:80 table-size 7\n"
		"backend 192.0.2.2:80 id 3\nbackend 192.0.2.3:80 id 0\n"
		" \ttable \t AwADAAADAA== \t\r\n";
	char err[KLB_SAVE_ERR_MAX], text[1024], *p = text;
	struct restore_service *svcs;
	size_t n;
	int i;

	ASSERT_EQ(0, parse(blanks, NULL, &svcs, &n, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(1, n);
	EXPECT_EQ(7, svcs[0].conf.table_size);
	ASSERT_EQ(1, svcs[0].nr_backends);
	EXPECT_EQ(4, svcs[0].backends[0].weight);
	restore_free(svcs, n);

	/* A table line is trimmed, not split: the same blanks around it. */
	ASSERT_EQ(0, parse(table_blanks, NULL, &svcs, &n, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(1, n);
	ASSERT_NE(NULL, svcs[0].table);
	EXPECT_EQ(3, svcs[0].table[0]);
	EXPECT_EQ(0, svcs[0].table[1]);
	EXPECT_EQ(3, svcs[0].table[5]);
	restore_free(svcs, n);

	/* 64 words: the service line's own error, not the limit's. */
	p += sprintf(p, "service tcp 192.0.2.1:80");
	for (i = 3; i < 64; i++)
		p += sprintf(p, " w");
	strcpy(p, "\n");
	EXPECT_EQ(-EINVAL, parse(text, NULL, &svcs, &n, err, sizeof(err)));
	EXPECT_EQ(NULL, strstr(err, "too many words")) TH_LOG("%s", err);
	strcpy(p, " w\n");
	EXPECT_EQ(-EINVAL, parse(text, NULL, &svcs, &n, err, sizeof(err)));
	EXPECT_STREQ("line 1: too many words", err);
	EXPECT_EQ(NULL, svcs);
}

/* A short buffer gets the start of the message, terminated. */
TEST(a_short_buffer_is_cut)
{
	struct restore_service *svcs;
	char err[12];
	size_t n;

	memset(err, 'x', sizeof(err));
	EXPECT_EQ(-EINVAL, parse("bogus\n", "a-long-file-name", &svcs, &n, err, sizeof(err)));
	EXPECT_STREQ("a-long-file", err);
	memset(err, 'x', sizeof(err));
	EXPECT_EQ(-EINVAL, parse("bogus\n", NULL, &svcs, &n, err, sizeof(err)));
	EXPECT_STREQ("line 1: unk", err);
}

/*
 * A large input is parsed in parts, a thread each. A file of SERVICES
 * services, 16381-entry tables included, is some 4.5 MB: four parts of
 * more than 1 MiB. broken (>= 0) breaks service broken in one of three ways.
 */
#define SERVICES	200

enum breakage { GOOD, BAD_WEIGHT, BAD_TABLE, SAME_KEY_AS_1 };

static char *big_file(int broken, enum breakage how, size_t *len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t cap = 32 << 20, at = 0;
	char *text = malloc(cap);
	int i, j, k;

	if (!text)
		return NULL;
	at += sprintf(text, "# klbctl save 1\n");
	for (i = 0; i < SERVICES; i++) {
		int port = broken == i && how == SAME_KEY_AS_1 ? 1001 : 1000 + i;
		uint8_t ids[16381 + 2] = { 0 };

		at += sprintf(text + at,
			      "service tcp 203.0.113.1:%d sched maglev table-size 16381 seed %032x\n",
			      port, i);
		for (j = 0; j < 10; j++)
			at += sprintf(text + at, "backend 198.51.100.%d:8080 id %d weight %d\n",
				      j + 1, j, broken == i && how == BAD_WEIGHT && j == 7 ?
				      -1 : 1 + (i + j) % 5);
		/* One byte an id, as klbctl save writes them below 256. */
		for (k = 0; k < 16381; k++)
			ids[k] = (uint8_t)((k * 7 + i) % 10);
		if (broken == i && how == BAD_TABLE)
			ids[16380] = 10;
		at += sprintf(text + at, "table ");
		for (k = 0; k < 16381; k += 3) {
			uint32_t v = ids[k] << 16 | ids[k + 1] << 8 | ids[k + 2];

			text[at++] = b64[v >> 18 & 63];
			text[at++] = b64[v >> 12 & 63];
			text[at++] = k + 1 < 16381 ? b64[v >> 6 & 63] : '=';
			text[at++] = k + 2 < 16381 ? b64[v & 63] : '=';
		}
		text[at++] = '\n';
	}
	text[at] = '\0';
	*len = at;
	return text;
}

static bool same_services(const struct restore_service *a,
			  const struct restore_service *b, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!klb_service_key_equal(&a[i].key, &b[i].key) ||
		    a[i].line != b[i].line || a[i].nr_backends != b[i].nr_backends ||
		    memcmp(a[i].conf.seed, b[i].conf.seed, KLB_SEED_LEN) ||
		    a[i].conf.table_size != b[i].conf.table_size ||
		    !a[i].table != !b[i].table ||
		    (a[i].table && memcmp(a[i].table, b[i].table,
					  a[i].conf.table_size * sizeof(uint16_t))))
			return false;
		for (j = 0; j < a[i].nr_backends; j++)
			if (a[i].backends[j].id != b[i].backends[j].id ||
			    a[i].backends[j].weight != b[i].backends[j].weight ||
			    !klb_endpoint_equal(&a[i].backends[j].addr,
						&b[i].backends[j].addr))
				return false;
	}
	return true;
}

TEST(parts_give_what_one_piece_gives)
{
	struct restore_service *one, *parts;
	unsigned int used1 = 1, used4 = 4;
	char err[KLB_SAVE_ERR_MAX];
	size_t len, n1, n4;
	char *text = big_file(-1, GOOD, &len);

	ASSERT_NE(NULL, text);
	ASSERT_LT(4u << 20, len);
	ASSERT_EQ(0, restore_parse_text(text, len, NULL, &used1, &one, &n1, err,
					sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, restore_parse_text(text, len, NULL, &used4, &parts, &n4, err,
					sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(1, used1);
	EXPECT_EQ(4, used4);
	ASSERT_EQ(SERVICES, n1);
	ASSERT_EQ(n1, n4);
	/* Lines numbered through: service i is on line 2 + 12 i. */
	EXPECT_EQ(2 + 12 * (SERVICES - 1), parts[SERVICES - 1].line);
	EXPECT_EQ((SERVICES - 1) % 10, parts[SERVICES - 1].table[0]);
	EXPECT_TRUE(same_services(one, parts, n1));
	restore_free(one, n1);
	restore_free(parts, n4);
	free(text);
}

/*
 * A large file is mapped, from where the stream stands: what it gives is
 * what the same bytes give from memory, and what a pipe-like stream of
 * them gives (fmemopen has no file descriptor, so it is read).
 */
TEST(a_large_file_is_mapped_from_its_position)
{
	struct restore_service *mapped, *read, *mem;
	size_t len, n_map, n_read, n_mem;
	char err[KLB_SAVE_ERR_MAX];
	unsigned int parts = 1;
	char *text = big_file(-1, GOOD, &len);
	FILE *f = tmpfile(), *m;

	ASSERT_NE(NULL, text);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(7, fwrite("# skip\n", 1, 7, f));
	ASSERT_EQ(len, fwrite(text, 1, len, f));
	ASSERT_EQ(0, fflush(f));
	ASSERT_EQ(0, fseek(f, 7, SEEK_SET));
	ASSERT_EQ(0, restore_parse(f, NULL, &mapped, &n_map, err, sizeof(err)))
		TH_LOG("%s", err);
	m = fmemopen(text, len, "r");
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, restore_parse(m, NULL, &read, &n_read, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, restore_parse_text(text, len, NULL, &parts, &mem, &n_mem,
					err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(SERVICES, n_mem);
	ASSERT_EQ(n_mem, n_map);
	ASSERT_EQ(n_mem, n_read);
	EXPECT_TRUE(same_services(mem, mapped, n_mem));
	EXPECT_TRUE(same_services(mem, read, n_mem));
	restore_free(mapped, n_map);
	restore_free(read, n_read);
	restore_free(mem, n_mem);
	fclose(m);
	fclose(f);
	free(text);
}

/*
 * text parsed in one piece and in up to four parts: both must fail, with
 * nothing to free; their errors in err1 and err4.
 */
static bool fails_both_ways(const char *text, size_t len, char *err1,
			    char *err4)
{
	struct restore_service *svcs1 = NULL, *svcs4 = NULL;
	unsigned int one = 1, four = 4;
	size_t n1 = 0, n4 = 0;
	int ret1, ret4;

	ret1 = restore_parse_text(text, len, NULL, &one, &svcs1, &n1, err1,
				  KLB_SAVE_ERR_MAX);
	ret4 = restore_parse_text(text, len, NULL, &four, &svcs4, &n4, err4,
				  KLB_SAVE_ERR_MAX);
	return ret1 == -EINVAL && ret4 == -EINVAL && !svcs1 && !svcs4 &&
	       !n1 && !n4;
}

/*
 * An error anywhere, a part's last service included (its table is checked
 * at the part's end, where one piece checks it at the next service line),
 * and a service given in two parts: the error one piece gives, to the byte.
 */
TEST(parts_give_the_error_one_piece_gives)
{
	static const struct {
		int broken;
		enum breakage how;
		const char *says;
	} cases[] = {
		{ 0, BAD_WEIGHT, "line 10: weight '-1'" },
		{ 120, BAD_WEIGHT, "line 1450: weight '-1'" },
		{ SERVICES - 1, BAD_WEIGHT, "weight '-1'" },
		{ 160, SAME_KEY_AS_1, "line 1922: service tcp 203.0.113.1:1001 already given on line 14" },
		{ SERVICES - 1, BAD_TABLE, "table of the service of line 2390" },
	};
	char err1[KLB_SAVE_ERR_MAX], err4[KLB_SAVE_ERR_MAX];
	size_t i, len;
	int broken;
	char *text;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = big_file(cases[i].broken, cases[i].how, &len);
		ASSERT_NE(NULL, text);
		EXPECT_TRUE(fails_both_ways(text, len, err1, err4)) TH_LOG("case %zu", i);
		EXPECT_STREQ(err1, err4);
		EXPECT_NE(NULL, strstr(err4, cases[i].says))
			TH_LOG("case %zu: '%s' does not say '%s'", i, err4, cases[i].says);
		free(text);
	}
	/* Tables broken around where the parts are cut (every 50 services). */
	for (broken = 0; broken < SERVICES; broken++) {
		if (broken % 50 > 1 && broken % 50 < 49)
			continue;
		text = big_file(broken, BAD_TABLE, &len);
		ASSERT_NE(NULL, text);
		EXPECT_TRUE(fails_both_ways(text, len, err1, err4)) TH_LOG("service %d", broken);
		EXPECT_STREQ(err1, err4) TH_LOG("service %d", broken);
		free(text);
	}
}

TEST_HARNESS_MAIN
