/* SPDX-License-Identifier: GPL-2.0 */
/* Fixed requests with the answer each must get (regress.c). */

#ifndef NLFUZZ_REGRESS_H
#define NLFUZZ_REGRESS_H

#include "api_nl.h"

/* Runs every case on @nl; returns how many failed, each said on stdout. */
int nlf_regress(struct api_nl *nl, unsigned int *nr_cases);

#endif /* NLFUZZ_REGRESS_H */
