/* SPDX-License-Identifier: MIT */
/* resources_internal.h: the Resources builder's state and checks, shared by resources.c and resources_cpu.c. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resources.h"

/* State of one res_plan_build() run: the plan so far and the first error. */
struct builder {
	struct res_plan plan;
	size_t cap;
	char *field;
	char *message;
};

/* Record the first validation error of a build; -EINVAL, or -ENOMEM when it cannot be recorded. */
__attribute__((format(printf, 3, 4)))
int res_fail(struct builder *b, const char *field, const char *fmt, ...);
/* "parent.key", malloc'd, or NULL. */
char *res_field_of(const char *parent, const char *key);
/* Member key of obj: 0 when absent or null, 1 with *ret when of type t, else -EINVAL. */
int res_get_member(struct builder *b, json_object *obj, const char *parent, const char *key,
		   json_type t, json_object **ret);
/* Integer member key of obj within min..max: 0 absent, 1 with *ret, -errno. */
int res_get_int_in(struct builder *b, json_object *obj, const char *parent, const char *key,
		   int64_t min, int64_t max, int64_t *ret);
/* Parse a plain unsigned decimal (digits only): 0, -EINVAL when not one, -ERANGE above max. */
int res_parse_uint(const char *s, uint64_t max, uint64_t *ret);
/*
 * Validate s as "max" (when allow_max) or an integer in min..max and store
 * its canonical form in *ret_value (malloc'd).
 */
int res_check_number(struct builder *b, const char *field, const char *s, uint64_t min,
		     uint64_t max, bool allow_max, char **ret_value);
/* Refuse keys of obj (which must be an object) that are not in allowed. */
int res_check_keys(struct builder *b, json_object *obj, const char *field,
		   const char *const *allowed);
/* Append a write to the plan, refusing a second write of the same target. */
int res_plan_add(struct builder *b, const char *file, const char *value,
		 const char *controller, const char *field);
/* resources.cpu → cpu.max, cpu.weight, cpu.idle, cpuset.cpus, cpuset.mems (resources_cpu.c). */
int res_build_cpu(struct builder *b, json_object *cpu);
