/* SPDX-License-Identifier: MIT */
/* libcgctl-snapshot.c: Snapshot, the statistics of many cgroups and the daemon's figures in one call. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "errors.h"
#include "libcgctl-internal.h"

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

int libcgctl_names_params(cgctl *c, const char *const *names, json_object **ret)
{
	_cleanup_json_ json_object *p = json_object_new_object(), *a = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	if (names && names[0]) {
		if (!(a = json_object_new_array()))
			return -ENOMEM;
		for (; *names; names++) {
			json_object *s;

			if ((r = libcgctl_check_name(c, *names)) < 0)
				return r;
			s = json_object_new_string(*names);
			if (!s || json_object_array_add(a, s) < 0) {
				json_object_put(s);
				return -ENOMEM;
			}
		}
		if (json_object_object_add(p, "names", TAKE_PTR(a)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

/* The reply parameters of Snapshot as JSON text. */
CGCTL_EXPORT int cgctl_snapshot(cgctl *c, const char *const *names, char **ret_json)
{
	_cleanup_json_ json_object *params = NULL, *reply = NULL;
	json_object *v;
	int r;

	if (!c || !ret_json)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	if ((r = libcgctl_names_params(c, names, &params)) < 0)
		return r;
	r = libcgctl_transact(c, CGCTL_INTERFACE ".Snapshot", params, &reply, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(reply, "cgroups", &v) || !json_object_is_type(v, json_type_array))
		return -EPROTO;
	return libcgctl_json_text(reply, ret_json);
}
