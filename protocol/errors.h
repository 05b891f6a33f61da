/* SPDX-License-Identifier: MIT */
/* errors.h: the protocol's error names, shared by daemon and client. */
#pragma once

enum cgerr {
	CGERR_NOT_FOUND,
	CGERR_ALREADY_EXISTS,
	CGERR_INVALID_NAME,
	CGERR_INVALID_VALUE,
	CGERR_NO_DELEGATION,
	CGERR_CONTROLLER_UNAVAILABLE,
	CGERR_BUSY,
	CGERR_PERMISSION_DENIED,
	CGERR_QUOTA_EXCEEDED,
	CGERR_TIMEOUT,
	CGERR_SYSTEM_ERROR,
	CGERR_REPLACED,     /* the directory is no longer the one cgctld made */
	/* org.varlink.service */
	CGERR_INTERFACE_NOT_FOUND,
	CGERR_METHOD_NOT_FOUND,
	CGERR_METHOD_NOT_IMPLEMENTED,
	CGERR_INVALID_PARAMETER,
	CGERR_EXPECTED_MORE,
	_CGERR_MAX,
	_CGERR_INVALID = -1,
};

#define CGCTL_INTERFACE "io.cgctl.Manager"
#define VARLINK_SERVICE_INTERFACE "org.varlink.service"

/* Fully qualified Varlink error name ("io.cgctl.Manager.NotFound"), NULL if out of range. */
const char *cgerr_name(enum cgerr e);
/* Inverse of cgerr_name(); _CGERR_INVALID for an unknown name. */
enum cgerr cgerr_from_name(const char *name);
