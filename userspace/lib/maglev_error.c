// SPDX-License-Identifier: GPL-2.0
/* Messages and errno values for the Maglev library's error codes. */
#include <errno.h>

#include "lib/maglev.h"

static const struct {
	const char *msg;
	int err;
} maglev_errors[MAGLEV_E_COUNT] = {
	[MAGLEV_OK] = { "success", 0 },
	[MAGLEV_E_SIZE_NOT_PRIME] = { "table size is not prime", EINVAL },
	[MAGLEV_E_SIZE_RANGE] = { "table size outside 7..1048573", ERANGE },
	[MAGLEV_E_SIZE_SMALL] = { "table size below the number of backends",
				  EINVAL },
	[MAGLEV_E_TOO_MANY] = { "more than 65535 backends", E2BIG },
	[MAGLEV_E_DUP_IDENTITY] = { "two backends have the same address and port",
				    EEXIST },
	[MAGLEV_E_DUP_ID] = { "two backends have the same id", EEXIST },
	[MAGLEV_E_NO_WEIGHT] = { "no backend is up with a weight above 0",
				 EINVAL },
	[MAGLEV_E_ID_RANGE] = { "backend id above 65534", ERANGE },
	[MAGLEV_E_WEIGHT_RANGE] = { "backend weight above 65535", ERANGE },
	[MAGLEV_E_STATE] = { "unknown backend state", EINVAL },
	[MAGLEV_E_UNKNOWN_ID] = { "no backend has that id", ENOENT },
	[MAGLEV_E_OP] = { "unknown table change", EINVAL },
	[MAGLEV_E_TABLE] = { "table names a backend id that is not in the list",
			     ENOENT },
	[MAGLEV_E_FORMAT] = { "malformed encoded Maglev state", EINVAL },
	[MAGLEV_E_SHORT] = { "buffer too short", ENOSPC },
	[MAGLEV_E_NOMEM] = { "out of memory", ENOMEM },
};

const char *maglev_strerror(int err)
{
	if (err > 0 || -err >= MAGLEV_E_COUNT)
		return "unknown Maglev error";
	return maglev_errors[-err].msg;
}

int maglev_errno(int err)
{
	if (err > 0 || -err >= MAGLEV_E_COUNT)
		return EINVAL;
	return maglev_errors[-err].err;
}
