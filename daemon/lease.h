/* SPDX-License-Identifier: MIT */
/* lease.h: Create's lease (glue): an entry lives as long as the connection that created it. */
#pragma once

struct app;
struct conn;
struct ledger_entry;

/* Tie le, this very entry (a later one of the same name is somebody else's), to connection c. 0 or -errno. */
int lease_take(struct app *a, struct ledger_entry *le, struct conn *c);
/*
 * Connection c is gone: kill and remove the entries it leased that the ledger
 * still holds (not while the daemon stops: the next start releases them).
 */
void lease_conn_closed(struct app *a, struct conn *c);
