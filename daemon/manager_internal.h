/* SPDX-License-Identifier: MIT */
/* manager_internal.h: what the manager_* files share among themselves; nothing outside the domain includes it. */
#pragma once

#include "manager.h"

/*
 * End every destroy in progress with Timeout "cgctld is stopping", its entry
 * active again (manager_destroy.c). After evwait_cancel_all(): a wait's callback
 * would find its destroy gone.
 */
void destroy_cancel_all(struct manager *m);
/* True while a destroy is in progress (manager_destroy.c). */
bool destroy_pending(const struct manager *m);
