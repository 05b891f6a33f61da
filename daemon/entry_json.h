/* SPDX-License-Identifier: MIT */
/* entry_json.h: the Entry object of List and Create, written as JSON text. */
#pragma once

#include "jsonbuf.h"
#include "ledger.h"

/*
 * Append le's Entry object to b: path is root_path "/" rel ("" when rel is
 * NULL), populated and frozen are 0, 1 or -1 (unknown: null). The only
 * writer of an Entry: the daemon's List and Create and the fuzz seeds use it.
 */
void entry_json_write(struct jsonbuf *b, const struct ledger_entry *le, const char *root_path, const char *rel,
		      int populated, int frozen);
