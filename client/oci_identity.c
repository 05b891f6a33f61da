/* SPDX-License-Identifier: MIT */
/* oci_identity.c: which cgroup is a container's: its name from config.json, the labels that mark it. */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "oci.h"

/* "slice:prefix:name" (systemd driver) → "prefix-name", the name systemd gives its scope. */
static int name_from_systemd_path(const char *path, char **ret)
{
	const char *c1 = strchr(path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *prefix = c1 ? c1 + 1 : NULL, *name = c2 ? c2 + 1 : NULL;
	int plen = c2 ? (int)(c2 - prefix) : 0;

	if (!c2 || strchr(name, ':') || !name[0] || strchr(name, '/') || memchr(prefix, '/', (size_t)plen))
		return -EINVAL;
	if (plen == 0)
		return (*ret = strdup(name)) ? 0 : -ENOMEM;
	return asprintf(ret, "%.*s-%s", plen, prefix, name) < 0 ? -ENOMEM : 0;
}

/* "oci-<id>"; for an id too long for one name component (runc allows any length): "oci-", its
 * first 96 bytes (cut at a character boundary), "-" and 16 hex digits of a hash of the whole id. */
static int name_from_id(const char *id, char **ret)
{
	size_t len = strlen(id), cut = 96;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	int r;

	if (len + 4 <= CGNAME_COMPONENT_MAX) {
		r = asprintf(ret, "oci-%s", id);
	} else {
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)id[i]) * 0x100000001b3ULL;
		while (cut > 0 && ((unsigned char)id[cut] & 0xc0) == 0x80)
			cut--;
		r = asprintf(ret, "oci-%.*s-%016" PRIx64, (int)cut, id, h);
	}
	if (r < 0)
		*ret = NULL;
	return r < 0 ? -ENOMEM : 0;
}

/* The name as given (io.cgctl.name or linux.cgroupsPath), in *ret; src names where it came from. */
static int name_given(const char *v, const char *src, const struct oci_log *log, char **ret)
{
	int r;

	if (strchr(v, ':')) {
		r = name_from_systemd_path(v, ret);
		if (r == -EINVAL)
			return oci_spec_error(log, "%s \"%s\": a systemd-style path must be \"slice:prefix:name\"", src,
					      v);
		return r;
	}
	while (*v == '/')
		v++;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

/* io.cgctl.name, else linux.cgroupsPath, else "oci-<id>"; then validated. */
int oci_identity_name(json_object *config, json_object *state, const char *id, const struct oci_log *log,
		      char **ret_name, bool *ret_derived)
{
	_cleanup_free_ char *name = NULL;
	const char *src = OCI_ANN_NAME, *reason = NULL;
	const char *v = oci_spec_annotation(config, state, OCI_ANN_NAME);
	bool derived = false;
	int r = 0;

	if (!v && config) {
		v = oci_spec_str(oci_spec_obj(config, "linux"), "cgroupsPath");
		src = "linux.cgroupsPath";
		if (v && !v[0])
			v = NULL;
	}
	if (v) {
		r = name_given(v, src, log, &name);
	} else {
		src = "the container id";
		derived = true;
		r = name_from_id(id, &name);
	}
	if (r == -EINVAL)
		return r;
	if (r < 0 || !name) {
		oci_spec_error(log, "out of memory");
		return -ENOMEM;
	}
	if (cgname_validate(name, strlen(name), &reason) < 0)
		return oci_spec_error(log, "cgroup name \"%s\" (from %s) is invalid: %s", name, src,
				      reason ? reason : "rejected");
	if (derived && strchr(name, '/'))
		return oci_spec_error(log, "container id \"%s\" contains \"/\"; set the %s annotation", id,
				      OCI_ANN_NAME);
	*ret_name = TAKE_PTR(name);
	*ret_derived = derived;
	return 0;
}

/* oci.id, oci.bundle and, for a name made from the id, oci.derived. */
json_object *oci_identity_labels(const struct oci_state *st, bool derived)
{
	json_object *l = json_object_new_object();

	json_object_object_add(l, "oci.id", json_object_new_string(st->id));
	json_object_object_add(l, "oci.bundle", json_object_new_string(st->bundle));
	if (derived)
		json_object_object_add(l, "oci.derived", json_object_new_string("true"));
	return l;
}

/* Whether entry e carries label "key=value". */
static bool entry_has_label(const struct cgctl_entry *e, const char *key, const char *value)
{
	size_t kl = strlen(key);

	for (char **l = e->labels; *l; l++)
		if (strncmp(*l, key, kl) == 0 && (*l)[kl] == '=' && strcmp(*l + kl + 1, value) == 0)
			return true;
	return false;
}

bool oci_identity_owner_ok(const struct oci_owner *o, const struct cgctl_entry *e)
{
	/* A tenant's List holds its own entries only; a daemon that does not say owns them all. */
	if (!o->admin || e->owner < 0)
		return true;
	return e->owner == 0 || e->owner == o->daemon_uid;
}

/* Both labels of oci_identity_labels() match, and the owner may be ours. */
bool oci_identity_is_ours(const struct oci_state *st, const struct oci_owner *o, const struct cgctl_entry *e)
{
	return oci_identity_owner_ok(o, e) && entry_has_label(e, "oci.id", st->id) &&
	       entry_has_label(e, "oci.bundle", st->bundle);
}
