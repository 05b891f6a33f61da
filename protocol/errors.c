/* SPDX-License-Identifier: MIT */
/* errors.c: the stable Varlink error names carried on the wire. */

#include <string.h>

#include "cleanup.h"
#include "errors.h"

static const char *const cgerr_names[_CGERR_MAX] = {
	[CGERR_NOT_FOUND]              = CGCTL_INTERFACE ".NotFound",
	[CGERR_ALREADY_EXISTS]         = CGCTL_INTERFACE ".AlreadyExists",
	[CGERR_INVALID_NAME]           = CGCTL_INTERFACE ".InvalidName",
	[CGERR_INVALID_VALUE]          = CGCTL_INTERFACE ".InvalidValue",
	[CGERR_NO_DELEGATION]          = CGCTL_INTERFACE ".NoDelegation",
	[CGERR_CONTROLLER_UNAVAILABLE] = CGCTL_INTERFACE ".ControllerUnavailable",
	[CGERR_BUSY]                   = CGCTL_INTERFACE ".Busy",
	[CGERR_PERMISSION_DENIED]      = CGCTL_INTERFACE ".PermissionDenied",
	[CGERR_QUOTA_EXCEEDED]         = CGCTL_INTERFACE ".QuotaExceeded",
	[CGERR_TIMEOUT]                = CGCTL_INTERFACE ".Timeout",
	[CGERR_SYSTEM_ERROR]           = CGCTL_INTERFACE ".SystemError",
	[CGERR_REPLACED]               = CGCTL_INTERFACE ".Replaced",
	[CGERR_INTERFACE_NOT_FOUND]    = VARLINK_SERVICE_INTERFACE ".InterfaceNotFound",
	[CGERR_METHOD_NOT_FOUND]       = VARLINK_SERVICE_INTERFACE ".MethodNotFound",
	[CGERR_METHOD_NOT_IMPLEMENTED] = VARLINK_SERVICE_INTERFACE ".MethodNotImplemented",
	[CGERR_INVALID_PARAMETER]      = VARLINK_SERVICE_INTERFACE ".InvalidParameter",
	[CGERR_EXPECTED_MORE]          = VARLINK_SERVICE_INTERFACE ".ExpectedMore",
};

/* Wire name of e, NULL when e is out of range. */
const char *cgerr_name(enum cgerr e)
{
	if ((int)e < 0 || e >= _CGERR_MAX)
		return NULL;
	return cgerr_names[e];
}

/* Look a wire name up; _CGERR_INVALID when it is not one of ours. */
enum cgerr cgerr_from_name(const char *name)
{
	size_t i;

	if (!name)
		return _CGERR_INVALID;
	for (i = 0; i < ELEMENTSOF(cgerr_names); i++)
		if (strcmp(cgerr_names[i], name) == 0)
			return (enum cgerr)i;
	return _CGERR_INVALID;
}
