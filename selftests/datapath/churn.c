// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration churn for datapath_churn_test.sh: for SECONDS, writes to
 * one TCP service as fast as the apply engine can, every write a new
 * snapshot and table: a backend CHURN is added, B1 reweighted, CHURN
 * drained and, once its open connections are done (as an operator
 * deletes a drained backend), deleted, B2 reweighted, over and over. One
 * process, so the rate is the kernel's and the engine's, not that of
 * starting programs.
 *
 *	churn SECONDS VIP:PORT CHURN:PORT B1:PORT B2:PORT
 *
 * IPv4 only. Prints "writes N seconds S"; exits 1 at the first failed
 * write, naming it.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/klb_apply.h"

static int parse_ep(const char *s, struct klb_endpoint *ep)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	memset(ep, 0, sizeof(*ep));
	ep->family = AF_INET;
	ep->port = (uint16_t)atoi(colon + 1);
	return inet_pton(AF_INET, host, ep->addr) == 1 && ep->port ? 0 : -1;
}

struct open_flows {
	const struct klb_endpoint *backend;
	unsigned long n;
};

static int count_open(const struct klb_flow_rec *r, void *data)
{
	struct open_flows *o = data;

	if (!memcmp(&r->backend.addr, o->backend, sizeof(*o->backend)) &&
	    (r->state == KLB_FLOW_SYN || r->state == KLB_FLOW_ESTABLISHED))
		o->n++;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct klb_service_key key = { .proto = IPPROTO_TCP };
	struct klb_backend churn = { 0 }, b1 = { 0 }, b2 = { 0 };
	struct klb_client c;
	klb_error e = { 0 };
	unsigned long writes = 0;
	double start, secs;
	int err = 0;

	if (argc != 6 || parse_ep(argv[2], &key.vip) ||
	    parse_ep(argv[3], &churn.addr) || parse_ep(argv[4], &b1.addr) ||
	    parse_ep(argv[5], &b2.addr)) {
		fprintf(stderr, "usage: churn SECONDS VIP:PORT CHURN:PORT B1:PORT B2:PORT\n");
		return 2;
	}
	if (klb_client_open(&c, &e)) {
		fprintf(stderr, "churn: %s\n", strerror(klb_error_errno(&e)));
		return 1;
	}
	start = now();
	while (!err && now() - start < atof(argv[1])) {
		uint32_t w = writes / 5 % 4 + 1;
		const char *what;

		churn.fields = KLB_BE_WEIGHT | KLB_BE_STATE;
		churn.weight = 1;
		churn.state = KLB_BACKEND_UP;
		what = "add churn";
		err = klb_apply_backend_add(&c, &key, &churn, &e);
		if (!err) {
			writes++;
			what = "reweight b1";
			b1.fields = KLB_BE_WEIGHT;
			b1.weight = w;
			err = klb_apply_backend_set(&c, &key, &b1, &e);
		}
		if (!err) {
			writes++;
			what = "drain churn";
			churn.fields = KLB_BE_STATE;
			churn.state = KLB_BACKEND_DRAIN;
			err = klb_apply_backend_set(&c, &key, &churn, &e);
		}
		if (!err) {
			struct open_flows o = { .backend = &churn.addr };
			double deadline = now() + 5;

			writes++;
			what = "wait for the drained backend's connections";
			do {
				o.n = 0;
				err = klb_flow_dump(&c, &key, count_open, &o, &e);
			} while (!err && o.n && now() < deadline);
			if (!err && o.n)
				err = klb_error_set(&e, ETIMEDOUT, "%lu still open",
						    o.n);
		}
		if (!err) {
			what = "delete churn";
			err = klb_apply_backend_del(&c, &key, &churn, &e);
		}
		if (!err) {
			writes++;
			what = "reweight b2";
			b2.fields = KLB_BE_WEIGHT;
			b2.weight = 5 - w;
			err = klb_apply_backend_set(&c, &key, &b2, &e);
		}
		if (!err)
			writes++;
		else
			fprintf(stderr, "churn: %s: %s%s%s\n", what,
				strerror(klb_error_errno(&e)),
				*klb_error_msg(&e) ? ": " : "", klb_error_msg(&e));
	}
	secs = now() - start;
	printf("writes %lu seconds %.1f\n", writes, secs);
	klb_client_close(&c);
	return err ? 1 : 0;
}
