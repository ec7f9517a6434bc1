// SPDX-License-Identifier: GPL-2.0
/*
 * The one print path. Object code hands over records of typed fields;
 * this file turns them into an aligned text table or into one JSON
 * document built with json-c. Keys are the JSON member names and, upper
 * cased, the text column headers, so both outputs always agree.
 */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "klbctl/klbctl.h"

struct cell {
	char *key;
	char *val;
};

struct row {
	struct cell *cells;
	size_t n;
};

static struct {
	bool json;
	bool stream;
	bool in_list;
	json_object *doc;		/* the list, or the single record */
	json_object *rec;		/* record being filled */
	struct row *rows;		/* text: every record, printed at the end */
	size_t nr_rows;
	struct row cur;
} out;

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fputs("klbctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	return d;
}

void out_init(bool json)
{
	memset(&out, 0, sizeof(out));
	out.json = json;
}

void out_list_begin(void)
{
	out.in_list = true;
	if (out.json)
		out.doc = json_object_new_array();
}

void out_list_end(void)
{
}

void out_stream_begin(void)
{
	out.stream = true;
}

void out_record_begin(void)
{
	if (out.json)
		out.rec = json_object_new_object();
	memset(&out.cur, 0, sizeof(out.cur));
}

static void text_cell(const char *key, const char *val)
{
	struct cell *cells = realloc(out.cur.cells,
				     (out.cur.n + 1) * sizeof(*cells));

	if (!cells) {
		fputs("klbctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	cells[out.cur.n].key = xstrdup(key);
	cells[out.cur.n].val = xstrdup(val);
	out.cur.cells = cells;
	out.cur.n++;
}

void out_str(const char *key, const char *val)
{
	if (out.json)
		json_object_object_add(out.rec, key, json_object_new_string(val));
	else
		text_cell(key, val);
}

void out_uint(const char *key, uint64_t val)
{
	char buf[24];

	if (out.json) {
		json_object_object_add(out.rec, key, json_object_new_uint64(val));
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	text_cell(key, buf);
}

void out_bool(const char *key, bool val)
{
	if (out.json)
		json_object_object_add(out.rec, key, json_object_new_boolean(val));
	else
		text_cell(key, val ? "yes" : "no");
}

void out_str_list(const char *key, const char *const *vals, size_t n)
{
	size_t i, len = 1;
	char *joined;

	if (out.json) {
		json_object *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(arr, json_object_new_string(vals[i]));
		json_object_object_add(out.rec, key, arr);
		return;
	}
	for (i = 0; i < n; i++)
		len += strlen(vals[i]) + 1;
	joined = calloc(1, len);
	if (!joined) {
		fputs("klbctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	for (i = 0; i < n; i++) {
		if (i)
			strcat(joined, ",");
		strcat(joined, vals[i]);
	}
	text_cell(key, n ? joined : "-");
	free(joined);
}

static void print_json(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, out.stream ?
					    JSON_C_TO_STRING_PLAIN :
					    JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_row_stream(const struct row *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		printf("%s%s %s", i ? " " : "", r->cells[i].key, r->cells[i].val);
	putchar('\n');
}

static void free_row(struct row *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->cells[i].key);
		free(r->cells[i].val);
	}
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

void out_record_end(void)
{
	if (out.json) {
		if (out.stream) {
			print_json(out.rec);
			json_object_put(out.rec);
			fflush(stdout);
		} else if (out.in_list) {
			json_object_array_add(out.doc, out.rec);
		} else {
			out.doc = out.rec;
		}
		out.rec = NULL;
		return;
	}
	if (out.stream) {
		print_row_stream(&out.cur);
		free_row(&out.cur);
		fflush(stdout);
		return;
	}
	out.rows = realloc(out.rows, (out.nr_rows + 1) * sizeof(*out.rows));
	if (!out.rows) {
		fputs("klbctl: out of memory\n", stderr);
		exit(EXIT_FAIL);
	}
	out.rows[out.nr_rows++] = out.cur;
	memset(&out.cur, 0, sizeof(out.cur));
}

void out_strings(const char *const *vals, size_t n)
{
	size_t i;

	if (out.json) {
		out.doc = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(out.doc, json_object_new_string(vals[i]));
		return;
	}
	out.in_list = true;
	for (i = 0; i < n; i++) {
		out_record_begin();
		out_uint("slot", i);
		out_str("backend", vals[i]);
		out_record_end();
	}
}

/* Columns in order of first appearance; a record without one shows "-". */
static void print_table(void)
{
	const char **cols = NULL;
	size_t *width = NULL, nr_cols = 0, r, c, i;

	for (r = 0; r < out.nr_rows; r++) {
		for (i = 0; i < out.rows[r].n; i++) {
			const char *key = out.rows[r].cells[i].key;

			for (c = 0; c < nr_cols; c++)
				if (!strcmp(cols[c], key))
					break;
			if (c == nr_cols) {
				cols = realloc(cols, (nr_cols + 1) * sizeof(*cols));
				width = realloc(width, (nr_cols + 1) * sizeof(*width));
				if (!cols || !width) {
					fputs("klbctl: out of memory\n", stderr);
					exit(EXIT_FAIL);
				}
				cols[nr_cols] = key;
				width[nr_cols++] = strlen(key);
			}
			if (strlen(out.rows[r].cells[i].val) > width[c])
				width[c] = strlen(out.rows[r].cells[i].val);
		}
	}
	for (c = 0; c < nr_cols; c++) {
		const char *k;

		for (k = cols[c]; *k; k++)
			putchar(*k == '_' ? ' ' : toupper((unsigned char)*k));
		if (c + 1 < nr_cols)
			printf("%*s", (int)(width[c] - strlen(cols[c]) + 2), "");
	}
	if (nr_cols)
		putchar('\n');
	for (r = 0; r < out.nr_rows; r++) {
		for (c = 0; c < nr_cols; c++) {
			const char *val = "-";

			for (i = 0; i < out.rows[r].n; i++)
				if (!strcmp(out.rows[r].cells[i].key, cols[c]))
					val = out.rows[r].cells[i].val;
			if (c + 1 < nr_cols)
				printf("%-*s  ", (int)width[c], val);
			else
				printf("%s", val);
		}
		putchar('\n');
	}
	free(cols);
	free(width);
}

/* A lone record (flow where): one "key: value" line per field. */
static void print_record(void)
{
	const struct row *r = &out.rows[0];
	size_t i, width = 0;

	for (i = 0; i < r->n; i++)
		if (strlen(r->cells[i].key) > width)
			width = strlen(r->cells[i].key);
	for (i = 0; i < r->n; i++)
		printf("%s:%*s %s\n", r->cells[i].key,
		       (int)(width - strlen(r->cells[i].key)), "", r->cells[i].val);
}

void out_finish(void)
{
	size_t r;

	if (out.json) {
		if (out.doc) {
			print_json(out.doc);
			json_object_put(out.doc);
		}
	} else {
		if (!out.in_list && out.nr_rows == 1)
			print_record();
		else
			print_table();
		for (r = 0; r < out.nr_rows; r++)
			free_row(&out.rows[r]);
		free(out.rows);
	}
	fflush(stdout);
	memset(&out.rows, 0, sizeof(out.rows));
	out.nr_rows = 0;
	out.doc = NULL;
}
