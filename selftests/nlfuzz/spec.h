/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shape of the family as the fuzzer sees it: attribute sets, their
 * attributes and the operations, filled in from the YNL spec at build time
 * (gen_spec.py writes klb_spec.h under build/).
 */

#ifndef NLFUZZ_SPEC_H
#define NLFUZZ_SPEC_H

#include <stdbool.h>
#include <stdint.h>

enum nlf_kind {
	NLF_U8,
	NLF_U16,
	NLF_U32,
	NLF_U64,
	NLF_BINARY,
	NLF_NEST,
	NLF_PAD,
	NLF_STRING,
	NLF_FLAG,
};

struct nlf_attr {
	const char *name;		/* "set.attr" */
	uint16_t type;
	enum nlf_kind kind;
	uint8_t size;			/* of a scalar; 0 otherwise */
	uint8_t nested;			/* set index of a nest */
	uint32_t max_len;		/* binary: 0 when the spec states none */
	bool has_min, has_max;
	uint64_t min, max;		/* also an enum's last value */
	uint32_t flags_mask;		/* the bits a flags attribute knows */
	bool u16_array;			/* binary made of u16 */
	bool big_endian;
	bool multi;			/* may come several times (multi-attr) */
};

struct nlf_set {
	const char *name;
	const struct nlf_attr *attrs;
	unsigned int nr_attrs;
	uint16_t max;			/* highest type the header defines */
};

#define NLF_OP_ATTRS_MAX	8

struct nlf_op {
	const char *name;
	uint8_t cmd;
	bool admin;			/* needs CAP_NET_ADMIN */
	bool has_do, has_dump;
	uint16_t do_attrs[NLF_OP_ATTRS_MAX];
	uint16_t dump_attrs[NLF_OP_ATTRS_MAX];
	unsigned int nr_do, nr_dump;
};

#endif /* NLFUZZ_SPEC_H */
