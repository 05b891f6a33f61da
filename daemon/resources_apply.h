/* SPDX-License-Identifier: MIT */
/* resources_apply.h: what resources_apply.c offers the plan builder beyond resources.h. */
#pragma once

#include <stdbool.h>

#include "resources.h"

/*
 * Whether a write of value to file addresses what write a does: the same
 * file, and for keyed files (io.max, io.weight, rdma.max, ...) the same key.
 */
bool res_same_target(const struct res_write *a, const char *file, const char *value);
