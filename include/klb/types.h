/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The few integer types the shared headers use, so that the same code
 * compiles into klb.ko (kbuild) and into userspace programs.
 */

#ifndef _KLB_TYPES_H
#define _KLB_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>	/* __be16, __be32 */

/*
 * The compiler's own names for the <stdint.h> types, so that u64 and
 * uint64_t are one type (same printf format, compatible pointers).
 */
typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
#endif

#endif /* _KLB_TYPES_H */
