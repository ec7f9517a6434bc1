/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC32C (Castagnoli), as used by iSCSI, ext4 and most WALs. Uses the SSE4.2
 * crc32 instruction when the CPU has it, a table otherwise.
 */
#ifndef KLB_RAFT_CRC32C_H
#define KLB_RAFT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc over buf; start with crc = 0. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len);
int crc32c_have_sse42(void);

#endif
