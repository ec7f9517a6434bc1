// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing command arguments and formatting objects back into the same
 * words, so that what klbctl prints can be pasted back into it.
 */

#include <stdio.h>
#include <string.h>

#include "klbctl/klbctl.h"

const char *fmt_endpoint(const struct klb_endpoint *ep, char *buf)
{
	return klb_endpoint_format(ep, buf);
}

const char *fmt_service(const struct klb_service_key *key, char *buf)
{
	char vip[ENDPOINT_STRLEN];

	snprintf(buf, SERVICE_STRLEN, "%s %s", proto_name(key->proto),
		 fmt_endpoint(&key->vip, vip));
	return buf;
}

const char *fmt_backend(const struct klb_service_key *key,
			const struct klb_endpoint *be, char *buf, size_t len)
{
	char svc[SERVICE_STRLEN], addr[ENDPOINT_STRLEN];

	snprintf(buf, len, "backend %s of %s", fmt_endpoint(be, addr),
		 fmt_service(key, svc));
	return buf;
}

const char *fmt_service_what(const struct klb_service_key *key, char *buf)
{
	char svc[SERVICE_STRLEN];

	snprintf(buf, WHAT_STRLEN, "service %s", fmt_service(key, svc));
	return buf;
}

int service_key_args(struct ctx *ctx, int argc, char **argv,
		     struct klb_service_key *key)
{
	memset(key, 0, sizeof(*key));
	if (argc < 2)
		return usage_error(ctx, "missing PROTO VIP:PORT");
	if (parse_proto(argv[0], &key->proto))
		return usage_error(ctx, "protocol must be tcp or udp, not '%s'", argv[0]);
	if (parse_endpoint(argv[1], &key->vip))
		return usage_error(ctx, "bad address '%s' (want 203.0.113.10:80 or [2001:db8::10]:80, port 1..65535)",
				   argv[1]);
	return 0;
}

int service_key_only(struct ctx *ctx, int argc, char **argv,
		     struct klb_service_key *key)
{
	int ret = service_key_args(ctx, argc, argv, key);

	if (!ret && argc > 2)
		return usage_error(ctx, "unexpected '%s'", argv[2]);
	return ret;
}

/*
 * Shape errors (unknown keyword, missing value, unreadable number) are
 * usage errors; values out of range are refused like the kernel would.
 */
int parse_service_options(struct ctx *ctx, int argc, char **argv,
			  struct klb_service_conf *conf, uint32_t *clear_flags,
			  struct klbd_check *check)
{
	char why[160];
	int i, ret;

	memset(check, 0, sizeof(*check));
	for (i = 0; i < argc; i += 2) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		/* A flag of the check, without a value: "check tcp via-vip". */
		if (matches(argv[i], "via-vip")) {
			check->via_vip = true;
			check->fields |= KLBD_CHECK_F_VIA_VIP;
			i--;
			continue;
		}
		ret = parse_check_option(argv[i], val, check, why, sizeof(why));
		if (ret < 0)
			return usage_error(ctx, "%s", why);
		if (!ret)
			continue;
		if (parse_service_option(argv[i], val, conf, clear_flags, why,
					 sizeof(why)))
			return usage_error(ctx, "%s", why);
	}
	/* It goes with its type: a later "check tcp" alone clears it. */
	if (check->via_vip && (!(check->fields & KLBD_CHECK_F_TYPE) ||
			       check->type != KLBD_CHECK_TCP))
		return usage_error(ctx, "via-vip goes with 'check tcp' (in the same command), not with other kinds");
	return 0;
}
