// SPDX-License-Identifier: MIT
/* test_oci.c: Check suite for client/oci_*.c: the OCI state and config.json translated for cgctld. */

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

/* What the modules reported, one "level: message" line each. */
static char logged[4096];

/* struct oci_log callback: append to logged. */
__attribute__((format(printf, 3, 0)))
static void capture_cb(void *userdata, const char *level, const char *fmt, va_list ap)
{
	size_t len = strlen(logged);
	int n = snprintf(logged + len, sizeof(logged) - len, "%s: ", level);

	ck_assert_int_gt(n, 0);
	len += (size_t)n;
	n = vsnprintf(logged + len, sizeof(logged) - len, fmt, ap);
	ck_assert_int_lt(n, (int)(sizeof(logged) - len - 1));
	strcat(logged, "\n");
}

static const struct oci_log capture = { .log_cb = capture_cb };

/* Forget what was logged. */
static void setup(void)
{
	logged[0] = '\0';
}

/* Parse a JSON object or fail the test. */
static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	ck_assert_msg(json_object_is_type(o, json_type_object), "not an object: %s", text);
	return o;
}

/* The plain JSON text of o. */
static const char *plain(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- oci_spec.c ---- */

START_TEST(test_spec_parse)
{
	const char nul[] = "{\"a\":1}\0{}";
	json_object *o = NULL;

	ck_assert_int_eq(oci_spec_parse("{\"a\": 1}", 8, &o), 0);
	ck_assert_str_eq(plain(o), "{\"a\":1}");
	json_object_put(o);
	o = NULL;
	ck_assert_int_eq(oci_spec_parse("[1]", 3, &o), -EINVAL);
	ck_assert_int_eq(oci_spec_parse("nope", 4, &o), -EINVAL);
	ck_assert_int_eq(oci_spec_parse("", 0, &o), -EINVAL);
	/* A NUL inside would hide the rest from the parser. */
	ck_assert_int_eq(oci_spec_parse(nul, sizeof(nul) - 1, &o), -EINVAL);
	ck_assert_ptr_null(o);
}
END_TEST

START_TEST(test_spec_state)
{
	json_object *s = parse("{\"id\": \"c1\", \"pid\": 42, \"bundle\": \"/b\", \"status\": \"creating\"}");
	struct oci_state st;
	const char *why = NULL;

	ck_assert_int_eq(oci_spec_state(s, &st, &why), 0);
	ck_assert_str_eq(st.id, "c1");
	ck_assert_str_eq(st.bundle, "/b");
	ck_assert_str_eq(st.status, "creating");
	ck_assert_int_eq(st.pid, 42);
	ck_assert_ptr_null(why);
	json_object_put(s);

	/* A pid out of range or of another type is no pid. */
	s = parse("{\"id\": \"c1\", \"pid\": -1, \"bundle\": \"/b\"}");
	ck_assert_int_eq(oci_spec_state(s, &st, &why), 0);
	ck_assert_int_eq(st.pid, 0);
	ck_assert_ptr_null(st.status);
	json_object_put(s);
	s = parse("{\"id\": \"c1\", \"pid\": 4294967296, \"bundle\": \"/b\"}");
	ck_assert_int_eq(oci_spec_state(s, &st, &why), 0);
	ck_assert_int_eq(st.pid, 0);
	json_object_put(s);
	s = parse("{\"id\": \"c1\", \"pid\": \"42\", \"bundle\": \"/b\"}");
	ck_assert_int_eq(oci_spec_state(s, &st, &why), 0);
	ck_assert_int_eq(st.pid, 0);
	json_object_put(s);
}
END_TEST

START_TEST(test_spec_state_rejected)
{
	struct oci_state st;
	const char *why = NULL;
	json_object *s = parse("{\"bundle\": \"/b\"}");

	ck_assert_int_eq(oci_spec_state(s, &st, &why), -EINVAL);
	ck_assert_str_eq(why, "the container state has no \"id\"");
	json_object_put(s);
	s = parse("{\"id\": \"\", \"bundle\": \"/b\"}");
	ck_assert_int_eq(oci_spec_state(s, &st, &why), -EINVAL);
	ck_assert_str_eq(why, "the container state has no \"id\"");
	json_object_put(s);
	/* The id is filled in all the same, for the message to name the container. */
	s = parse("{\"id\": \"c1\", \"bundle\": \"relative\"}");
	ck_assert_int_eq(oci_spec_state(s, &st, &why), -EINVAL);
	ck_assert_str_eq(why, "the container state has no absolute \"bundle\" path");
	ck_assert_str_eq(st.id, "c1");
	json_object_put(s);
}
END_TEST

START_TEST(test_spec_annotation)
{
	json_object *config = parse("{\"annotations\": {\"a\": \"from-config\", \"n\": 5}}");
	json_object *state = parse("{\"annotations\": {\"a\": \"from-state\", \"b\": \"only-state\"}}");

	ck_assert_str_eq(oci_spec_annotation(config, state, "a"), "from-config");
	ck_assert_str_eq(oci_spec_annotation(config, state, "b"), "only-state");
	ck_assert_str_eq(oci_spec_annotation(NULL, state, "a"), "from-state");
	ck_assert_ptr_null(oci_spec_annotation(config, state, "n"));
	ck_assert_ptr_null(oci_spec_annotation(config, NULL, "c"));
	json_object_put(config);
	json_object_put(state);
}
END_TEST

START_TEST(test_spec_report)
{
	oci_spec_warn(&capture, "w %d", 1);
	ck_assert_int_eq(oci_spec_error(&capture, "e %s", "x"), -EINVAL);
	ck_assert_str_eq(logged, "warning: w 1\nerror: e x\n");
	/* Without a log, nowhere. */
	oci_spec_warn(NULL, "w");
	ck_assert_int_eq(oci_spec_error(NULL, "e"), -EINVAL);
	ck_assert_str_eq(logged, "warning: w 1\nerror: e x\n");
}
END_TEST

/* ---- oci_identity.c ---- */

/* The name for config (and state) text, container id "c1"; checks what was logged. */
static void assert_name(const char *config, const char *state, const char *want, bool want_derived)
{
	json_object *c = parse(config), *s = state ? parse(state) : NULL;
	char *name = NULL;
	bool derived = !want_derived;

	ck_assert_int_eq(oci_identity_name(c, s, "c1", &capture, &name, &derived), 0);
	ck_assert_str_eq(name, want);
	ck_assert(derived == want_derived);
	ck_assert_str_eq(logged, "");
	free(name);
	json_object_put(c);
	json_object_put(s);
}

/* The name for config is refused with error message want (out-parameters untouched). */
static void assert_name_rejected(const char *config, const char *id, const char *want)
{
	json_object *c = parse(config);
	char *name = (char *)"untouched";
	bool derived = false;

	logged[0] = '\0';
	ck_assert_int_eq(oci_identity_name(c, NULL, id, &capture, &name, &derived), -EINVAL);
	ck_assert_str_eq(name, "untouched");
	ck_assert_str_eq(logged, want);
	json_object_put(c);
}

START_TEST(test_identity_name)
{
	assert_name("{}", NULL, "oci-c1", true);
	assert_name("{\"linux\": {\"cgroupsPath\": \"\"}}", NULL, "oci-c1", true);
	assert_name("{\"linux\": {\"cgroupsPath\": \"/x/y\"}}", NULL, "x/y", false);
	assert_name("{\"annotations\": {\"io.cgctl.name\": \"foo/bar\"}, \"linux\": {\"cgroupsPath\": \"x\"}}", NULL,
		    "foo/bar", false);
	/* The annotation may come with the state, and still wins over cgroupsPath. */
	assert_name("{\"linux\": {\"cgroupsPath\": \"x\"}}", "{\"annotations\": {\"io.cgctl.name\": \"st\"}}", "st",
		    false);
}
END_TEST

/* The name made from container id id (no name given). */
static char *name_of_id(const char *id)
{
	json_object *c = parse("{}");
	char *name = NULL;
	bool derived = false;

	logged[0] = '\0';
	ck_assert_int_eq(oci_identity_name(c, NULL, id, &capture, &name, &derived), 0);
	ck_assert(derived);
	ck_assert_str_eq(logged, "");
	json_object_put(c);
	return name;
}

/* runc takes container ids of any length: one too long for a name component (128 bytes with
 * "oci-") still names a cgroup, cut and told apart by a hash of the whole id (refused before). */
START_TEST(test_identity_name_long_id)
{
	char id[256], *name;

	memset(id, 'c', sizeof(id));
	id[124] = '\0';
	name = name_of_id(id);
	ck_assert_uint_eq(strlen(name), 128);
	ck_assert(strncmp(name, "oci-", 4) == 0 && strcmp(name + 4, id) == 0);
	free(name);
	id[124] = 'c';
	id[125] = '\0';
	name = name_of_id(id);
	ck_assert_uint_eq(strlen(name), 117);
	ck_assert(strncmp(name, "oci-", 4) == 0 && memcmp(name + 4, id, 96) == 0);
	ck_assert_str_eq(name + 100, "-44bb30d4df109bf6");
	free(name);
	for (int i = 0; i < 200; i++)
		id[i] = i % 2 ? 'b' : 'a';
	id[200] = '\0';
	name = name_of_id(id);
	ck_assert(memcmp(name + 4, id, 96) == 0);
	ck_assert_str_eq(name + 100, "-3b92fa687948d2ed");
	free(name);
	/* A multi-byte character at the cut is not split. */
	memset(id, 'x', 95);
	id[95] = (char)0xc3;
	id[96] = (char)0xa9;
	memset(id + 97, 'y', 100);
	id[197] = '\0';
	name = name_of_id(id);
	ck_assert_uint_eq(strlen(name), 116);
	ck_assert_int_eq(name[99], '-');
	free(name);
}
END_TEST

START_TEST(test_identity_name_systemd)
{
	assert_name("{\"linux\": {\"cgroupsPath\": \"user.slice:pfx:n2\"}}", NULL, "pfx-n2", false);
	assert_name("{\"linux\": {\"cgroupsPath\": \"slice::n\"}}", NULL, "n", false);
	assert_name_rejected("{\"linux\": {\"cgroupsPath\": \"a:b\"}}", "c1",
			     "error: linux.cgroupsPath \"a:b\": a systemd-style path must be \"slice:prefix:name\"\n");
	assert_name_rejected("{\"annotations\": {\"io.cgctl.name\": \"s:p/x:n\"}}", "c1",
			     "error: io.cgctl.name \"s:p/x:n\": a systemd-style path must be \"slice:prefix:name\"\n");
	assert_name_rejected("{\"linux\": {\"cgroupsPath\": \"a:b:c:d\"}}", "c1",
			     "error: linux.cgroupsPath \"a:b:c:d\": a systemd-style path must be \"slice:prefix:name\"\n");
}
END_TEST

START_TEST(test_identity_name_rejected)
{
	assert_name_rejected("{\"annotations\": {\"io.cgctl.name\": \"..\"}}", "c1",
			     "error: cgroup name \"..\" (from io.cgctl.name) is invalid: name component is \"..\"\n");
	assert_name_rejected("{\"annotations\": {\"io.cgctl.name\": \"\"}}", "c1",
			     "error: cgroup name \"\" (from io.cgctl.name) is invalid: name is empty\n");
	assert_name_rejected("{}", "c/2",
			     "error: container id \"c/2\" contains \"/\"; set the io.cgctl.name annotation\n");
}
END_TEST

START_TEST(test_identity_labels)
{
	struct oci_state st = { .id = "c1", .bundle = "/b/1" };
	json_object *l = oci_identity_labels(&st, false);

	ck_assert_str_eq(plain(l), "{\"oci.id\":\"c1\",\"oci.bundle\":\"/b/1\"}");
	json_object_put(l);
	l = oci_identity_labels(&st, true);
	ck_assert_str_eq(plain(l), "{\"oci.id\":\"c1\",\"oci.bundle\":\"/b/1\",\"oci.derived\":\"true\"}");
	json_object_put(l);
}
END_TEST

START_TEST(test_identity_is_ours)
{
	struct oci_state st = { .id = "c1", .bundle = "/b/1" };
	char *both[] = { "x=y", "oci.id=c1", "oci.bundle=/b/1", NULL };
	char *other_bundle[] = { "oci.id=c1", "oci.bundle=/b/2", NULL };
	char *prefix[] = { "oci.id=c10", "oci.bundle=/b/1", NULL };
	char *key_prefix[] = { "oci.idx=c1", "oci.bundle=/b/1", NULL };
	char *no_equals[] = { "oci.id:c1", "oci.bundle=/b/1", NULL };
	char *none[] = { NULL };
	struct oci_owner admin = { .admin = true, .daemon_uid = 0 };
	struct cgctl_entry e = { .labels = both };

	ck_assert(oci_identity_is_ours(&st, &admin, &e));
	e.labels = other_bundle;
	ck_assert(!oci_identity_is_ours(&st, &admin, &e));
	e.labels = prefix;
	ck_assert(!oci_identity_is_ours(&st, &admin, &e));
	e.labels = key_prefix;
	ck_assert(!oci_identity_is_ours(&st, &admin, &e));
	e.labels = no_equals;
	ck_assert(!oci_identity_is_ours(&st, &admin, &e));
	e.labels = none;
	ck_assert(!oci_identity_is_ours(&st, &admin, &e));
}
END_TEST

/* An administrator's hook takes only administrators' entries: a tenant labels its own as it likes. */
START_TEST(test_identity_owner)
{
	struct oci_state st = { .id = "c1", .bundle = "/b/1" };
	char *both[] = { "oci.id=c1", "oci.bundle=/b/1", NULL };
	struct oci_owner root = { .admin = true, .daemon_uid = 0 };
	struct oci_owner user = { .admin = true, .daemon_uid = 1000 };
	struct oci_owner tenant = { .admin = false, .daemon_uid = -1 };
	struct cgctl_entry e = { .labels = both, .owner = 1003 };

	/* A tenant's entry, labelled as root's container: not root's, nor a user daemon's. */
	ck_assert(!oci_identity_owner_ok(&root, &e));
	ck_assert(!oci_identity_is_ours(&st, &root, &e));
	ck_assert(!oci_identity_is_ours(&st, &user, &e));
	/* The tenant's own hook sees only its own entries. */
	ck_assert(oci_identity_is_ours(&st, &tenant, &e));
	/* Root's and the daemon's uid are administrators; a daemon that does not say owns all. */
	e.owner = 0;
	ck_assert(oci_identity_is_ours(&st, &root, &e));
	ck_assert(oci_identity_is_ours(&st, &user, &e));
	e.owner = 1000;
	ck_assert(oci_identity_is_ours(&st, &user, &e));
	ck_assert(!oci_identity_is_ours(&st, &root, &e));
	e.owner = -1;
	ck_assert(oci_identity_is_ours(&st, &root, &e));
}
END_TEST

/* ---- oci_resources.c ---- */

/* Translate config.json with linux.resources given as text; the result, *ret on success. */
static int translate(const char *resources, json_object **ret)
{
	char config[2048];
	json_object *c;
	int r;

	logged[0] = '\0';
	ck_assert_int_lt(snprintf(config, sizeof(config), "{\"linux\": {\"resources\": %s}}", resources),
			 (int)sizeof(config));
	c = parse(config);
	r = oci_resources_from_spec(c, NULL, &capture, ret);
	json_object_put(c);
	return r;
}

/* linux.resources given as text → Resources text want; what was logged must be want_log. */
static void assert_res(const char *resources, const char *want, const char *want_log)
{
	json_object *res = NULL;

	ck_assert_int_eq(translate(resources, &res), 0);
	ck_assert_str_eq(plain(res), want);
	ck_assert_str_eq(logged, want_log);
	json_object_put(res);
}

/* linux.resources given as text is refused with error message want. */
static void assert_res_rejected(const char *resources, const char *want)
{
	json_object *res = NULL;

	ck_assert_int_eq(translate(resources, &res), -EINVAL);
	ck_assert_ptr_null(res);
	ck_assert_str_eq(logged, want);
}

START_TEST(test_resources_empty)
{
	json_object *c = parse("{}"), *res = NULL;

	ck_assert_int_eq(oci_resources_from_spec(c, NULL, &capture, &res), 0);
	ck_assert_str_eq(plain(res), "{}");
	json_object_put(res);
	json_object_put(c);
	assert_res("{}", "{}", "");
}
END_TEST

START_TEST(test_resources_memory)
{
	assert_res("{\"memory\": {\"limit\": 1073741824, \"reservation\": 536870912, \"swap\": 2147483648}}",
		   "{\"memory\":{\"max\":\"1073741824\",\"low\":\"536870912\",\"swap_max\":\"1073741824\"}}", "");
	/* -1 is unlimited; with no swap given, swap is unlimited too, as on cgroup v1. */
	assert_res("{\"memory\": {\"limit\": -1}}", "{\"memory\":{\"max\":\"max\",\"swap_max\":\"max\"}}", "");
	assert_res("{\"memory\": {\"limit\": 100, \"swap\": -1}}", "{\"memory\":{\"max\":\"100\",\"swap_max\":\"max\"}}",
		   "");
	assert_res("{\"memory\": {\"limit\": 100, \"swap\": 100}}", "{\"memory\":{\"max\":\"100\",\"swap_max\":\"0\"}}",
		   "");
	assert_res("{\"memory\": {\"limit\": 0}}", "{}", "");
	assert_res("{\"memory\": {\"kernel\": 5, \"swappiness\": 0, \"limit\": 0}}", "{}",
		   "warning: linux.resources.memory.kernel is not supported on cgroup v2 by cgctld; ignored\n");
}
END_TEST

START_TEST(test_resources_memory_rejected)
{
	assert_res_rejected("{\"memory\": {\"limit\": 200, \"swap\": 100}}",
			    "error: linux.resources.memory.swap (memory+swap, 100) is below the memory limit (200)\n");
	assert_res_rejected("{\"memory\": {\"swap\": 100}}", "error: linux.resources.memory.swap needs a memory limit\n");
	assert_res_rejected("{\"memory\": {\"limit\": \"1G\"}}",
			    "error: linux.resources.memory: limit, reservation and swap must be integers\n");
}
END_TEST

START_TEST(test_resources_cpu)
{
	assert_res("{\"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\", "
		   "\"mems\": \"0\", \"idle\": 1}}",
		   "{\"cpu\":{\"shares\":1024,\"quota\":\"50000\",\"period\":100000,\"idle\":true,\"cpus\":\"0-1\","
		   "\"mems\":\"0\"}}",
		   "");
	/* Shares are clamped as the kernel clamps cgroup v1 shares; cgctld turns them into a weight. */
	assert_res("{\"cpu\": {\"shares\": 1, \"quota\": -1}}", "{\"cpu\":{\"shares\":2,\"quota\":\"max\"}}", "");
	assert_res("{\"cpu\": {\"shares\": 300000, \"idle\": 0}}", "{\"cpu\":{\"shares\":262144,\"idle\":false}}", "");
	assert_res("{\"cpu\": {\"shares\": 0, \"period\": 0, \"cpus\": \"\"}}", "{}", "");
}
END_TEST

START_TEST(test_resources_cpu_burst)
{
	assert_res("{\"cpu\": {\"burst\": 1000, \"realtimeRuntime\": 5}}", "{\"unified\":{\"cpu.max.burst\":\"1000\"}}",
		   "warning: linux.resources.cpu.realtimeRuntime is not supported on cgroup v2 by cgctld; ignored\n");
	/* unified wins over what was translated. */
	assert_res("{\"cpu\": {\"burst\": 1000}, \"unified\": {\"cpu.max.burst\": \"7\"}}",
		   "{\"unified\":{\"cpu.max.burst\":\"7\"}}", "");
	assert_res_rejected("{\"cpu\": {\"quota\": \"x\"}}",
			    "error: linux.resources.cpu: shares, quota, period, idle and burst must be integers\n");
}
END_TEST

START_TEST(test_resources_pids)
{
	assert_res("{\"pids\": {\"limit\": 100}}", "{\"pids_max\":\"100\"}", "");
	assert_res("{\"pids\": {\"limit\": 0}}", "{\"pids_max\":\"max\"}", "");
	assert_res("{\"pids\": {\"limit\": -1}}", "{\"pids_max\":\"max\"}", "");
	assert_res("{\"pids\": {}}", "{}", "");
	assert_res_rejected("{\"pids\": {\"limit\": \"a\"}}", "error: linux.resources.pids.limit must be an integer\n");
}
END_TEST

START_TEST(test_resources_blkio_weight)
{
	/* 10..1000 onto 1..10000, as runc converts it. */
	assert_res("{\"blockIO\": {\"weight\": 10}}", "{\"io\":{\"weight\":1}}", "");
	assert_res("{\"blockIO\": {\"weight\": 500}}", "{\"io\":{\"weight\":4950}}", "");
	assert_res("{\"blockIO\": {\"weight\": 1000}}", "{\"io\":{\"weight\":10000}}", "");
	assert_res("{\"blockIO\": {\"weight\": 5}}", "{\"io\":{\"weight\":1}}", "");
	assert_res("{\"blockIO\": {\"weight\": 0}}", "{}", "");
	assert_res_rejected("{\"blockIO\": {\"weight\": \"w\"}}", "error: linux.resources.blockIO.weight must be an integer\n");
}
END_TEST

START_TEST(test_resources_blkio_throttle)
{
	assert_res("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}], "
		   "\"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 0}, "
		   "{\"major\": 8, \"minor\": 16, \"rate\": 100}], \"leafWeight\": 3}}",
		   "{\"io\":{\"max\":[{\"major\":8,\"minor\":0,\"rbps\":\"1048576\",\"wiops\":\"max\"},"
		   "{\"major\":8,\"minor\":16,\"wiops\":\"100\"}]}}",
		   "warning: linux.resources.blockIO.leafWeight is not supported on cgroup v2 by cgctld; ignored\n");
	assert_res_rejected("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"rate\": 1}]}}",
			    "error: linux.resources.blockIO: a throttle device needs major, minor and rate\n");
	assert_res_rejected("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": -1}]}}",
			    "error: linux.resources.blockIO: a throttle device needs major, minor and rate\n");
}
END_TEST

START_TEST(test_resources_hugetlb)
{
	assert_res("{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}, {\"pageSize\": \"1GB\", "
		   "\"limit\": 0}]}",
		   "{\"hugetlb\":[{\"pagesize\":\"2MB\",\"max\":\"4194304\"},{\"pagesize\":\"1GB\",\"max\":\"0\"}]}", "");
	assert_res_rejected("{\"hugepageLimits\": [{\"pageSize\": \"2MB\"}]}",
			    "error: linux.resources.hugepageLimits[0] needs pageSize and limit\n");
	assert_res_rejected("{\"hugepageLimits\": {}}", "error: linux.resources.hugepageLimits must be an array\n");
}
END_TEST

START_TEST(test_resources_unified)
{
	assert_res("{\"unified\": {\"cgroup.max.descendants\": \"5\", \"memory.high\": \"1\"}}",
		   "{\"unified\":{\"cgroup.max.descendants\":\"5\",\"memory.high\":\"1\"}}", "");
	assert_res_rejected("{\"unified\": \"x\"}", "error: linux.resources.unified must be an object\n");
}
END_TEST

START_TEST(test_resources_unsupported)
{
	assert_res("{\"rdma\": {\"mlx\": {}}, \"network\": {\"classID\": 1}, \"devices\": [{\"allow\": false}]}", "{}",
		   "warning: linux.resources.rdma is not supported on cgroup v2 by cgctld; ignored\n"
		   "warning: linux.resources.network is not supported on cgroup v2 by cgctld; ignored\n");
	/* Set to nothing is not worth a warning. */
	assert_res("{\"rdma\": {}, \"network\": {}}", "{}", "");
}
END_TEST

START_TEST(test_resources_annotation)
{
	json_object *c = parse("{\"linux\": {\"resources\": {\"memory\": {\"limit\": 100}, \"pids\": {\"limit\": 5}}}, "
			       "\"annotations\": {\"io.cgctl.resources\": \"{\\\"memory\\\": {\\\"reservation\\\": 7}}\"}}");
	json_object *s = parse("{\"annotations\": {\"io.cgctl.resources\": \"{\\\"pids\\\": {\\\"limit\\\": 9}}\"}}");
	json_object *res = NULL;

	/* Member by member: the annotation's memory replaces linux.resources.memory whole. */
	ck_assert_int_eq(oci_resources_from_spec(c, s, &capture, &res), 0);
	ck_assert_str_eq(plain(res), "{\"memory\":{\"low\":\"7\"},\"pids_max\":\"5\"}");
	json_object_put(res);
	res = NULL;
	/* Without one in config.json, the state's counts. */
	ck_assert_int_eq(oci_resources_from_spec(NULL, s, &capture, &res), 0);
	ck_assert_str_eq(plain(res), "{\"pids_max\":\"9\"}");
	json_object_put(res);
	json_object_put(c);
	json_object_put(s);
	ck_assert_str_eq(logged, "");
}
END_TEST

START_TEST(test_resources_annotation_rejected)
{
	json_object *c = parse("{\"annotations\": {\"io.cgctl.resources\": \"[1]\"}}"), *res = NULL;

	ck_assert_int_eq(oci_resources_from_spec(c, NULL, &capture, &res), -EINVAL);
	ck_assert_ptr_null(res);
	ck_assert_str_eq(logged, "error: annotation io.cgctl.resources is not a JSON object\n");
	json_object_put(c);
}
END_TEST

/* drop_controller(res, ctl) on Resources text removes n parts and leaves want. */
static void assert_drop_controller(const char *res, const char *ctl, int n, const char *want)
{
	json_object *o = parse(res);

	ck_assert_int_eq(oci_resources_drop_controller(o, ctl), n);
	ck_assert_str_eq(plain(o), want);
	json_object_put(o);
}

START_TEST(test_resources_drop_controller)
{
	const char *res = "{\"memory\":{\"max\":\"1\"},\"pids_max\":\"5\",\"cpu\":{\"quota\":\"max\",\"period\":1000,"
			  "\"shares\":2,\"cpus\":\"0\",\"mems\":\"0\"},\"unified\":{\"memory.high\":\"1\","
			  "\"memory.min\":\"0\",\"cpu.max.burst\":\"7\",\"memoryx.y\":\"1\"}}";

	assert_drop_controller(res, "memory", 3,
			       "{\"pids_max\":\"5\",\"cpu\":{\"quota\":\"max\",\"period\":1000,\"shares\":2,\"cpus\":\"0\","
			       "\"mems\":\"0\"},\"unified\":{\"cpu.max.burst\":\"7\",\"memoryx.y\":\"1\"}}");
	assert_drop_controller(res, "cpu", 4,
			       "{\"memory\":{\"max\":\"1\"},\"pids_max\":\"5\",\"cpu\":{\"cpus\":\"0\",\"mems\":\"0\"},"
			       "\"unified\":{\"memory.high\":\"1\",\"memory.min\":\"0\",\"memoryx.y\":\"1\"}}");
	assert_drop_controller(res, "cpuset", 2,
			       "{\"memory\":{\"max\":\"1\"},\"pids_max\":\"5\",\"cpu\":{\"quota\":\"max\",\"period\":1000,"
			       "\"shares\":2},\"unified\":{\"memory.high\":\"1\",\"memory.min\":\"0\",\"cpu.max.burst\":\"7\","
			       "\"memoryx.y\":\"1\"}}");
	assert_drop_controller(res, "pids", 1,
			       "{\"memory\":{\"max\":\"1\"},\"cpu\":{\"quota\":\"max\",\"period\":1000,\"shares\":2,"
			       "\"cpus\":\"0\",\"mems\":\"0\"},\"unified\":{\"memory.high\":\"1\",\"memory.min\":\"0\","
			       "\"cpu.max.burst\":\"7\",\"memoryx.y\":\"1\"}}");
	assert_drop_controller("{\"pids_max\":\"5\"}", "rdma", 0, "{\"pids_max\":\"5\"}");
}
END_TEST

/* drop_field(res, field) on Resources text returns n and leaves want. */
static void assert_drop_field(const char *res, const char *field, int n, const char *want)
{
	json_object *o = parse(res);

	ck_assert_int_eq(oci_resources_drop_field(o, field), n);
	ck_assert_str_eq(plain(o), want);
	json_object_put(o);
}

START_TEST(test_resources_drop_field)
{
	assert_drop_field("{\"memory\":{\"max\":\"1\",\"swap_max\":\"0\"}}", "resources.memory.swap_max", 1,
			  "{\"memory\":{\"max\":\"1\"}}");
	assert_drop_field("{\"pids_max\":\"5\",\"cpu\":{}}", "resources.pids_max", 1, "{\"cpu\":{}}");
	/* Crossing an array drops its element. */
	assert_drop_field("{\"hugetlb\":[{\"pagesize\":\"2MB\",\"max\":\"1\"},{\"pagesize\":\"1GB\",\"max\":\"2\"}]}",
			  "resources.hugetlb[1].max", 1, "{\"hugetlb\":[{\"pagesize\":\"2MB\",\"max\":\"1\"}]}");
	assert_drop_field("{\"unified\":{\"cpu.max.burst\":\"7\",\"memory.high\":\"1\"}}",
			  "resources.unified[\"cpu.max.burst\"]", 1, "{\"unified\":{\"memory.high\":\"1\"}}");
	/* What is not there is left alone. */
	assert_drop_field("{\"memory\":{\"max\":\"1\"}}", "resources.memory.low", 0, "{\"memory\":{\"max\":\"1\"}}");
	assert_drop_field("{\"hugetlb\":[]}", "resources.hugetlb[0].max", 0, "{\"hugetlb\":[]}");
	assert_drop_field("{\"memory\":{\"max\":\"1\"}}", "resources", 0, "{\"memory\":{\"max\":\"1\"}}");
	assert_drop_field("{\"memory\":{\"max\":\"1\"}}", "resources!x", 0, "{\"memory\":{\"max\":\"1\"}}");
}
END_TEST

/* A fresh directory standing in for a bundle, in buf. */
static void mk_bundle(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/test_oci.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

/* Remove what mk_bundle() made and the files the tests put there. */
static void rm_bundle(const char *dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/" OCI_WHERE_RECORD, dir);
	unlink(p);
	rmdir(dir);
}

/* oci_where_socket(bundle) with the environment as set, compared with want. */
static void assert_socket(const char *bundle, const char *want)
{
	char *p = NULL;

	ck_assert_int_eq(oci_where_socket(bundle, &p), 0);
	ck_assert_str_eq(p, want);
	free(p);
}

START_TEST(test_where_record)
{
	char dir[64], fallback[128], *p = NULL;

	unsetenv("CGCTL_SOCKET");
	unsetenv("XDG_RUNTIME_DIR");
	mk_bundle(dir, sizeof(dir));
	snprintf(fallback, sizeof(fallback), "/run/user/%u/cgctl/io.cgctl.Manager", (unsigned)oci_where_outer_uid());
	/* Nothing recorded: the uid outside any user namespace decides. */
	assert_socket(dir, fallback);
	assert_socket(NULL, fallback);
	ck_assert_int_eq(oci_where_record(dir, "/x/cgctl.sock", "/x/hook.log", NULL), 0);
	assert_socket(dir, "/x/cgctl.sock");
	ck_assert_int_eq(oci_where_log(dir, &p), 0);
	ck_assert_str_eq(p, "/x/hook.log");
	free(p);
	/* The environment wins over the record. */
	setenv("XDG_RUNTIME_DIR", "/r", 1);
	assert_socket(dir, "/r/cgctl/io.cgctl.Manager");
	setenv("CGCTL_SOCKET", "/e.sock", 1);
	assert_socket(dir, "/e.sock");
	unsetenv("CGCTL_SOCKET");
	unsetenv("XDG_RUNTIME_DIR");
	oci_where_forget(dir);
	assert_socket(dir, fallback);
	oci_where_forget(dir); /* twice is fine */
	rm_bundle(dir);
}
END_TEST

START_TEST(test_where_record_rejected)
{
	char dir[64], path[128], fallback[128];
	FILE *f;

	unsetenv("CGCTL_SOCKET");
	unsetenv("XDG_RUNTIME_DIR");
	mk_bundle(dir, sizeof(dir));
	snprintf(fallback, sizeof(fallback), "/run/user/%u/cgctl/io.cgctl.Manager", (unsigned)oci_where_outer_uid());
	snprintf(path, sizeof(path), "%s/" OCI_WHERE_RECORD, dir);
	/* Not JSON, a relative path, a symlink: ignored. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("/x/cgctl.sock", f);
	fclose(f);
	assert_socket(dir, fallback);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"socket\": \"rel/sock\"}", f);
	fclose(f);
	assert_socket(dir, fallback);
	unlink(path);
	ck_assert_int_eq(symlink("/etc/hostname", path), 0);
	assert_socket(dir, fallback);
	rm_bundle(dir);
}
END_TEST

START_TEST(test_where_record_name)
{
	char dir[64], path[128], *name;
	FILE *f;

	mk_bundle(dir, sizeof(dir));
	/* Nothing recorded, or a record without a name (an older hook's): none. */
	ck_assert_ptr_null(oci_where_name(dir));
	ck_assert_ptr_null(oci_where_name(NULL));
	ck_assert_int_eq(oci_where_record(dir, "/x/cgctl.sock", NULL, NULL), 0);
	ck_assert_ptr_null(oci_where_name(dir));
	/* createRuntime's name, for poststop's parents. */
	ck_assert_int_eq(oci_where_record(dir, "/x/cgctl.sock", NULL, "machine/ctr1"), 0);
	name = oci_where_name(dir);
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, "machine/ctr1");
	free(name);
	/* A name that is not one: ignored. */
	snprintf(path, sizeof(path), "%s/" OCI_WHERE_RECORD, dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"socket\": \"/x/cgctl.sock\", \"name\": \"machine/../etc\"}", f);
	fclose(f);
	ck_assert_ptr_null(oci_where_name(dir));
	oci_where_forget(dir);
	rm_bundle(dir);
}
END_TEST

START_TEST(test_where_outer_uid)
{
	/* Outside a user namespace (the test's case) or in an identity-mapped one: our own uid. */
	FILE *f = fopen("/proc/self/uid_map", "r");
	unsigned long in = 1, out = 2, count = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu %lu", &in, &out, &count), 3);
	fclose(f);
	if (in == 0 && out == 0)
		ck_assert_uint_eq(oci_where_outer_uid(), geteuid());
	else
		ck_assert_uint_eq(oci_where_outer_uid(), out + geteuid() - in);
}
END_TEST

/* Add a test case with the log-clearing fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *fn)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

/* The oci suite. */
static Suite *oci_suite(void)
{
	Suite *s = suite_create("oci");

	add_tcase(s, "spec_parse", test_spec_parse);
	add_tcase(s, "spec_state", test_spec_state);
	add_tcase(s, "spec_state_rejected", test_spec_state_rejected);
	add_tcase(s, "spec_annotation", test_spec_annotation);
	add_tcase(s, "spec_report", test_spec_report);
	add_tcase(s, "identity_name", test_identity_name);
	add_tcase(s, "identity_name_systemd", test_identity_name_systemd);
	add_tcase(s, "identity_name_long_id", test_identity_name_long_id);
	add_tcase(s, "identity_name_rejected", test_identity_name_rejected);
	add_tcase(s, "identity_labels", test_identity_labels);
	add_tcase(s, "identity_is_ours", test_identity_is_ours);
	add_tcase(s, "identity_owner", test_identity_owner);
	add_tcase(s, "resources_empty", test_resources_empty);
	add_tcase(s, "resources_memory", test_resources_memory);
	add_tcase(s, "resources_memory_rejected", test_resources_memory_rejected);
	add_tcase(s, "resources_cpu", test_resources_cpu);
	add_tcase(s, "resources_cpu_burst", test_resources_cpu_burst);
	add_tcase(s, "resources_pids", test_resources_pids);
	add_tcase(s, "resources_blkio_weight", test_resources_blkio_weight);
	add_tcase(s, "resources_blkio_throttle", test_resources_blkio_throttle);
	add_tcase(s, "resources_hugetlb", test_resources_hugetlb);
	add_tcase(s, "resources_unified", test_resources_unified);
	add_tcase(s, "resources_unsupported", test_resources_unsupported);
	add_tcase(s, "resources_annotation", test_resources_annotation);
	add_tcase(s, "resources_annotation_rejected", test_resources_annotation_rejected);
	add_tcase(s, "resources_drop_controller", test_resources_drop_controller);
	add_tcase(s, "resources_drop_field", test_resources_drop_field);
	add_tcase(s, "where_record", test_where_record);
	add_tcase(s, "where_record_rejected", test_where_record_rejected);
	add_tcase(s, "where_record_name", test_where_record_name);
	add_tcase(s, "where_outer_uid", test_where_outer_uid);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(oci_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
