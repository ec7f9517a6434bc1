// SPDX-License-Identifier: GPL-2.0
/* Reading an HTTP request's line and headers (http.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "klbd/http.h"

bool http_request_complete(const char *p, size_t len)
{
	size_t i;

	for (i = 1; i < len; i++)
		if (p[i] == '\n' && (p[i - 1] == '\n' ||
				     (i >= 2 && p[i - 1] == '\r' && p[i - 2] == '\n')))
			return true;
	return false;
}

int http_request_line(const char *req, size_t len, struct http_req *r)
{
	const char *nl = memchr(req, '\n', len), *sp1, *sp2, *q;
	size_t i;

	if (!nl)
		return -EINVAL;
	len = nl - req;
	if (len && req[len - 1] == '\r')
		len--;
	sp1 = memchr(req, ' ', len);
	if (!sp1 || sp1 == req)
		return -EINVAL;
	for (i = 0; req + i < sp1; i++)
		if (req[i] < 'A' || req[i] > 'Z')
			return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', len - (sp1 + 1 - req));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return -EINVAL;
	for (i = 1; sp1 + i < sp2; i++)
		if ((unsigned char)sp1[i] <= ' ' || sp1[i] == 0x7f)
			return -EINVAL;
	if (req + len - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    sp2[8] < '0' || sp2[8] > '9')
		return -EINVAL;
	r->method = req;
	r->method_len = sp1 - req;
	r->path = sp1 + 1;
	q = memchr(r->path, '?', sp2 - r->path);
	r->path_len = (q ? q : sp2) - r->path;
	r->query = q ? q + 1 : "";
	r->query_len = q ? (size_t)(sp2 - (q + 1)) : 0;
	return 0;
}

const char *http_header(const char *req, size_t len, const char *name,
			size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = memchr(req, '\n', len), *end = req + len, *eol, *v;

	while (p && ++p < end) {
		eol = memchr(p, '\n', end - p);
		if (!eol)
			break;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    !strncasecmp(p, name, nlen)) {
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && (eol[-1] == '\r' || eol[-1] == ' ' ||
					   eol[-1] == '\t'))
				eol--;
			*vlen = eol - v;
			return v;
		}
		p = eol;
	}
	return NULL;
}

const char *http_query(const struct http_req *r, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = r->query, *end = r->query + r->query_len, *amp;

	while (p < end) {
		amp = memchr(p, '&', end - p);
		if (!amp)
			amp = end;
		if ((size_t)(amp - p) > nlen && p[nlen] == '=' && !memcmp(p, name, nlen)) {
			*vlen = amp - (p + nlen + 1);
			return p + nlen + 1;
		}
		p = amp + 1;
	}
	return NULL;
}
