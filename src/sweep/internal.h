/* SPDX-License-Identifier: MIT */
/* sweep/ internals shared by its files: CSV cells. */
#ifndef CCMM_SWEEP_INTERNAL_H
#define CCMM_SWEEP_INTERNAL_H

#include "sweep/sweep.h"

/* A JSON value as a CSV cell's text (malloc'd): strings bare, numbers as JSON writes them, null empty. */
char *_ccmm_csv_cell(json_t *v);

#endif
