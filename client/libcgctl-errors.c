/* SPDX-License-Identifier: MIT */
/* libcgctl-errors.c: what a failure means: names checked before the wire, daemon error names as codes, a code's text. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "libcgctl-internal.h"
#include "names.h"

int libcgctl_bad_args(cgctl *c, const char *func)
{
	char msg[128];

	if (!c)
		return -EINVAL;
	snprintf(msg, sizeof(msg), "invalid arguments to %s()", func);
	return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE), msg);
}

/* Validate a name before it goes on the wire: with the rule of new names when creating. */
static int check_name(cgctl *c, const char *name, bool create)
{
	const char *reason = NULL;
	int r;

	if (create)
		r = cgname_validate_new(name, name ? strlen(name) : 0, &reason);
	else
		r = cgname_validate(name, name ? strlen(name) : 0, &reason);
	if (r < 0)
		return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_NAME),
					  reason ? reason : "invalid name");
	return 0;
}

int libcgctl_check_name(cgctl *c, const char *name)
{
	return check_name(c, name, false);
}

int libcgctl_check_new_name(cgctl *c, const char *name)
{
	return check_name(c, name, true);
}

/* SystemError's errno parameter as a negative code; -EIO when absent or absurd. */
static int system_error_code(json_object *params)
{
	json_object *v;
	int64_t e;

	if (!params || !json_object_object_get_ex(params, "errno", &v) ||
	    !json_object_is_type(v, json_type_int))
		return -EIO;
	e = json_object_get_int64(v);
	if (e <= 0 || e >= CGCTL_ENODELEGATION)
		return -EIO;
	return (int)-e;
}

/* Map a Varlink error name to the code cgctl.h documents. */
int libcgctl_error_to_code(const char *name, json_object *params)
{
	switch (cgerr_from_name(name)) {
	case CGERR_NOT_FOUND:              return -ENOENT;
	case CGERR_ALREADY_EXISTS:         return -EEXIST;
	case CGERR_INVALID_NAME:           return -EINVAL;
	case CGERR_INVALID_VALUE:          return -EINVAL;
	case CGERR_NO_DELEGATION:          return -CGCTL_ENODELEGATION;
	case CGERR_CONTROLLER_UNAVAILABLE: return -EOPNOTSUPP;
	case CGERR_BUSY:                   return -EBUSY;
	case CGERR_PERMISSION_DENIED:      return -EACCES;
	case CGERR_QUOTA_EXCEEDED:         return -EDQUOT;
	case CGERR_TIMEOUT:                return -ETIMEDOUT;
	case CGERR_SYSTEM_ERROR:           return system_error_code(params);
	case CGERR_REPLACED:               return -CGCTL_EREPLACED;
	case CGERR_INTERFACE_NOT_FOUND:    return -ENOSYS;
	case CGERR_METHOD_NOT_FOUND:       return -ENOSYS;
	case CGERR_METHOD_NOT_IMPLEMENTED: return -ENOSYS;
	case CGERR_INVALID_PARAMETER:      return -EINVAL;
	case CGERR_EXPECTED_MORE:          return -EINVAL;
	default:                           return -EPROTO;
	}
}

/* Text for a code; strerrordesc_np() is thread-safe, unlike strerror(). */
CGCTL_EXPORT const char *cgctl_strerror(int r)
{
	const char *s;

	if (r == INT_MIN)
		return "Unknown error";
	if (r < 0)
		r = -r;
	if (r == CGCTL_ENODELEGATION)
		return "No delegated cgroup subtree";
	if (r == CGCTL_EREPLACED)
		return "Cgroup replaced by one cgctld did not create";
	if (r == CGCTL_EUNTRUSTED)
		return "Socket served by another user";
	s = strerrordesc_np(r);
	return s ? s : "Unknown error";
}
