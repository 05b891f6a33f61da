// SPDX-License-Identifier: MIT
/* ledger_format.c: the ledger's bytes on disk: CRC-32C journal lines, records, snapshot documents. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "identity.h"
#include "jsonbuf.h"
#include "ledger_format.h"

#define LEDGER_FORMAT "cgctl-ledger"
#define LEDGER_VERSION 1
#define JSON_DEPTH_MAX 64

#define REC_PREFIX "{\"rec\":"
#define CRC_PREFIX ",\"crc\":\""
#define REC_PREFIX_LEN (sizeof(REC_PREFIX) - 1)
#define CRC_PREFIX_LEN (sizeof(CRC_PREFIX) - 1)
#define REC_SUFFIX_LEN (CRC_PREFIX_LEN + 8 + 2) /* ,"crc":"xxxxxxxx"} */

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char *const state_names[] = {
	[LEDGER_CREATING] = "creating",
	[LEDGER_ACTIVE] = "active",
	[LEDGER_DESTROYING] = "destroying",
};

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---- */

static uint32_t crc32c_table[256];
static bool crc32c_ready;

/* Fill the byte-at-a-time lookup table once. */
static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[i] = c;
	}
	crc32c_ready = true;
}

/* CRC-32C of len bytes. */
static uint32_t crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	if (!crc32c_ready)
		crc32c_init();
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* ---- JSON helpers ---- */

/* Parse exactly len bytes of JSON (trailing whitespace allowed); -EBADMSG when they are not. */
static int json_parse_exact(const char *text, size_t len, int depth, json_object **ret)
{
	struct json_tokener *tok;
	json_object *o;
	size_t used;

	if (len > INT32_MAX)
		return -EBADMSG;
	tok = json_tokener_new_ex(depth);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	used = (size_t)json_tokener_get_parse_end(tok);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		json_tokener_free(tok);
		json_object_put(o);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	for (; used < len; used++)
		if (!strchr(" \t\r\n", text[used])) {
			json_object_put(o);
			return -EBADMSG;
		}
	*ret = o;
	return 0;
}

/* Boolean member key of o; -EBADMSG when missing or not a boolean. */
static int json_get_bool(json_object *o, const char *key, bool *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return -EBADMSG;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* Non-negative integer member key of o; -EBADMSG when missing, negative or not an integer. */
static int json_get_u64(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	if (json_object_get_int64(v) < 0)
		return -EBADMSG;
	*ret = json_object_get_uint64(v);
	return 0;
}

/*
 * A sequence number: far below 2^64, so appending can never wrap it (json-c
 * saturates an out-of-range number, which would otherwise pass as UINT64_MAX).
 */
static int json_get_seq(json_object *o, uint64_t *ret)
{
	uint64_t v;

	if (json_get_u64(o, "seq", &v) < 0 || v >= (UINT64_C(1) << 62))
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* String member key of o; -EBADMSG when missing or not a string. */
static int json_get_str(json_object *o, const char *key, const char **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	*ret = json_object_get_string(v);
	return 0;
}

/* ---- entries ---- */

/* Append v in decimal, as json-c writes a uint64. */
static void put_u64(struct jsonbuf *b, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	jsonbuf_put(b, num, (size_t)n);
}

/*
 * e's JSON form as records and the snapshot hold it, as text, byte for byte what
 * json-c writes for the same members (the unit tests hold it to that): records are
 * built on every Create and Destroy, and a json-c tree costs them a malloc per member.
 */
static void entry_write(struct jsonbuf *b, const struct ledger_entry *e)
{
	const char *state = ledger_state_to_string(e->state);

	jsonbuf_put_lit(b, "{\"name\":");
	jsonbuf_put_string(b, e->name, strlen(e->name));
	jsonbuf_put_lit(b, ",\"state\":");
	jsonbuf_put_string(b, state, strlen(state));
	jsonbuf_put_lit(b, ",\"generated\":");
	jsonbuf_put_bool(b, e->generated);
	jsonbuf_put_lit(b, ",\"delegate\":");
	jsonbuf_put_bool(b, e->delegate);
	jsonbuf_put_lit(b, ",\"auto_remove\":");
	jsonbuf_put_bool(b, e->auto_remove);
	jsonbuf_put_lit(b, ",\"lease\":");
	jsonbuf_put_bool(b, e->lease);
	if (e->was_populated)
		jsonbuf_put_lit(b, ",\"was_populated\":true");
	jsonbuf_put_lit(b, ",\"created\":");
	put_u64(b, e->created_usec);
	jsonbuf_put_lit(b, ",\"cgroup_id\":");
	put_u64(b, e->cgroup_id);
	if (e->nonce[0]) {
		jsonbuf_put_lit(b, ",\"nonce\":");
		jsonbuf_put_string(b, e->nonce, strlen(e->nonce));
	}
	jsonbuf_put_lit(b, ",\"owner\":");
	put_u64(b, e->owner);
	jsonbuf_put_lit(b, ",\"labels\":");
	jsonbuf_put_value(b, e->labels);
	jsonbuf_put_lit(b, "}");
}

/* The entry of its JSON form; -EBADMSG when it is malformed. */
int ledger_format_entry_from_json(json_object *o, struct ledger_entry *ret)
{
	struct ledger_entry e = { 0 };
	const char *name, *state;
	json_object *labels = NULL;

	if (!json_object_is_type(o, json_type_object))
		return -EBADMSG;
	if (json_get_str(o, "name", &name) < 0 || !name[0] || json_get_str(o, "state", &state) < 0 ||
	    ledger_state_from_string(state, &e.state) < 0 ||
	    json_get_bool(o, "generated", &e.generated) < 0 ||
	    json_get_bool(o, "delegate", &e.delegate) < 0 ||
	    json_get_bool(o, "auto_remove", &e.auto_remove) < 0 ||
	    json_get_bool(o, "lease", &e.lease) < 0 ||
	    json_get_u64(o, "created", &e.created_usec) < 0 ||
	    json_get_u64(o, "cgroup_id", &e.cgroup_id) < 0)
		return -EBADMSG;
	json_object_object_get_ex(o, "labels", &labels);
	if (labels && !json_object_is_type(labels, json_type_object))
		return -EBADMSG;
	/* Optional (absent before tenants): such entries were made by the daemon's own uid. */
	e.owner = geteuid();
	if (json_object_object_get_ex(o, "owner", NULL)) {
		uint64_t owner;

		if (json_get_u64(o, "owner", &owner) < 0 || owner >= (uid_t)-1)
			return -EBADMSG;
		e.owner = (uid_t)owner;
	}
	/* Optional (absent in older records): auto_remove waits for it. */
	if (json_object_object_get_ex(o, "was_populated", NULL) &&
	    json_get_bool(o, "was_populated", &e.was_populated) < 0)
		return -EBADMSG;
	/* Optional (absent in older records and where none was recorded): the identity nonce. */
	if (json_object_object_get_ex(o, "nonce", NULL)) {
		const char *nonce;

		if (json_get_str(o, "nonce", &nonce) < 0 || !identity_nonce_valid(nonce))
			return -EBADMSG;
		snprintf(e.nonce, sizeof(e.nonce), "%s", nonce);
	}
	e.name = strdup(name);
	if (!e.name)
		return -ENOMEM;
	e.labels = json_object_get(labels);
	*ret = e;
	return 0;
}

/* ---- journal records ---- */

/* Start the record {"seq":seq,"op":op, for the caller to complete. */
static void record_start(struct jsonbuf *b, uint64_t seq, const char *op)
{
	jsonbuf_put_lit(b, "{\"seq\":");
	put_u64(b, seq);
	jsonbuf_put_lit(b, ",\"op\":");
	jsonbuf_put_string(b, op, strlen(op));
}

/* The journal line for the record text in b: {"rec":REC,"crc":"xxxxxxxx"}\n, checked to read back. */
static int record_line(struct jsonbuf *b, bool check_readback, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *line = NULL;
	json_object *check = NULL;
	const char *s = b->buf;
	size_t rlen = b->len, len;
	char crc[9];

	if (b->failed || !s)
		return -ENOMEM;
	len = REC_PREFIX_LEN + rlen + REC_SUFFIX_LEN + 1;
	if (len > JOURNAL_LINE_MAX)
		return -EFBIG;
	/* Never write what the loader would refuse (nesting depth, odd numbers): only
	 * client-given labels can bring those, so only records with labels pay for it. */
	if (check_readback) {
		if (json_parse_exact(s, rlen, JSON_DEPTH_MAX - 2, &check) < 0)
			return -EINVAL;
		json_object_put(check);
	}
	if (snprintf(crc, sizeof(crc), "%08x", crc32c(s, rlen)) != 8)
		return -EIO;
	line = malloc(len + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, REC_PREFIX, REC_PREFIX_LEN);
	memcpy(line + REC_PREFIX_LEN, s, rlen);
	memcpy(line + REC_PREFIX_LEN + rlen, CRC_PREFIX, CRC_PREFIX_LEN);
	memcpy(line + REC_PREFIX_LEN + rlen + CRC_PREFIX_LEN, crc, 8);
	memcpy(line + len - 3, "\"}\n", 4);
	*ret = TAKE_PTR(line);
	*ret_len = len;
	return 0;
}

/* Check the shape and crc of one journal line (without '\n'); the REC bytes in *ret_rec. */
static int line_check(const char *line, size_t len, const char **ret_rec, size_t *ret_rec_len)
{
	const char *sfx, *hex;
	uint32_t want = 0;

	if (len < REC_PREFIX_LEN + 2 + REC_SUFFIX_LEN || memcmp(line, REC_PREFIX, REC_PREFIX_LEN) != 0)
		return -EBADMSG;
	sfx = line + len - REC_SUFFIX_LEN;
	hex = sfx + CRC_PREFIX_LEN;
	if (memcmp(sfx, CRC_PREFIX, CRC_PREFIX_LEN) != 0 || memcmp(hex + 8, "\"}", 2) != 0)
		return -EBADMSG;
	for (int i = 0; i < 8; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EBADMSG;
		want = want << 4 | (uint32_t)v;
	}
	*ret_rec = line + REC_PREFIX_LEN;
	*ret_rec_len = (size_t)(sfx - *ret_rec);
	if (crc32c(*ret_rec, *ret_rec_len) != want)
		return -EBADMSG;
	return 0;
}

/* Check, then parse one journal line (without '\n'). */
int ledger_format_line_parse(const char *line, size_t len, json_object **ret)
{
	const char *s;
	size_t slen;
	int r;

	r = line_check(line, len, &s, &slen);
	if (r < 0)
		return r;
	return json_parse_exact(s, slen, JSON_DEPTH_MAX, ret);
}

/* A record's seq, op and operand; -EBADMSG when it is malformed or out of sequence. */
int ledger_format_record_decode(json_object *rec, uint64_t prev_seq, struct ledger_record *ret)
{
	json_object *entry = NULL;
	const char *op, *name = NULL;
	uint64_t seq;

	if (!json_object_is_type(rec, json_type_object) || json_get_seq(rec, &seq) < 0 ||
	    seq <= prev_seq || json_get_str(rec, "op", &op) < 0)
		return -EBADMSG;
	if (strcmp(op, "put") == 0) {
		if (!json_object_object_get_ex(rec, "entry", &entry))
			return -EBADMSG;
	} else if (strcmp(op, "del") == 0) {
		if (json_get_str(rec, "name", &name) < 0)
			return -EBADMSG;
	} else {
		return -EBADMSG;
	}
	*ret = (struct ledger_record){ .seq = seq, .entry = entry, .name = name };
	return 0;
}

/* The line putting e; labels are checked to read back (only client-given labels can fail that). */
int ledger_format_put_line(const struct ledger_entry *e, uint64_t seq, char **ret, size_t *ret_len)
{
	struct jsonbuf b = { 0 };
	int r;

	record_start(&b, seq, "put");
	jsonbuf_put_lit(&b, ",\"entry\":");
	entry_write(&b, e);
	jsonbuf_put_lit(&b, "}");
	r = record_line(&b, e->labels && json_object_object_length(e->labels) > 0, ret, ret_len);
	jsonbuf_free(&b);
	return r;
}

/* Bytes of e's JSON form, as the snapshot holds it. */
int ledger_format_entry_size(const struct ledger_entry *e, size_t *ret)
{
	struct jsonbuf b = { 0 };
	bool failed;

	entry_write(&b, e);
	failed = b.failed;
	*ret = b.len;
	jsonbuf_free(&b);
	return failed ? -ENOMEM : 0;
}

/* Where a JSON parse of text stops being valid (len when it is whole). */
size_t ledger_format_json_error_offset(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	json_object *o;
	size_t end;

	if (!tok || len > INT32_MAX) {
		json_tokener_free(tok);
		return 0;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	end = (size_t)json_tokener_get_parse_end(tok);
	json_object_put(o);
	json_tokener_free(tok);
	return end;
}

/* The line deleting name. */
int ledger_format_del_line(const char *name, uint64_t seq, char **ret, size_t *ret_len)
{
	struct jsonbuf b = { 0 };
	int r;

	record_start(&b, seq, "del");
	jsonbuf_put_lit(&b, ",\"name\":");
	jsonbuf_put_string(&b, name, strlen(name));
	jsonbuf_put_lit(&b, "}");
	r = record_line(&b, false, ret, ret_len);
	jsonbuf_free(&b);
	return r;
}

/* ---- snapshot ---- */

/* The document as the file holds it: plain JSON and a newline, written by the records' entry writer. */
int ledger_format_snapshot_text(struct ledger_entry *const *v, size_t n, uint64_t seq, char **ret,
				size_t *ret_len)
{
	struct jsonbuf b = { 0 };

	jsonbuf_put_lit(&b, "{\"format\":");
	jsonbuf_put_string(&b, LEDGER_FORMAT, strlen(LEDGER_FORMAT));
	jsonbuf_put_lit(&b, ",\"version\":");
	jsonbuf_put_int(&b, LEDGER_VERSION);
	jsonbuf_put_lit(&b, ",\"seq\":");
	put_u64(&b, seq);
	jsonbuf_put_lit(&b, ",\"entries\":[");
	for (size_t i = 0; i < n && !b.failed && b.len <= SNAPSHOT_MAX; i++) {
		if (i > 0)
			jsonbuf_put_lit(&b, ",");
		entry_write(&b, v[i]);
	}
	jsonbuf_put_lit(&b, "]}\n");
	if (b.failed) {
		jsonbuf_free(&b);
		return -ENOMEM;
	}
	if (b.len > SNAPSHOT_MAX) {
		jsonbuf_free(&b);
		return -EFBIG;
	}
	*ret = b.buf;
	*ret_len = b.len;
	return 0;
}

/* The seq and the entries array of a parsed snapshot object; -EBADMSG when malformed. */
static int snapshot_header(json_object *o, uint64_t *ret_seq, json_object **ret_entries)
{
	json_object *entries;
	const char *format;
	uint64_t version, seq;

	if (!json_object_is_type(o, json_type_object) || json_get_str(o, "format", &format) < 0 ||
	    strcmp(format, LEDGER_FORMAT) != 0 || json_get_u64(o, "version", &version) < 0)
		return -EBADMSG;
	if (version != LEDGER_VERSION)
		return -EPROTONOSUPPORT;
	if (json_get_seq(o, &seq) < 0 || !json_object_object_get_ex(o, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_array))
		return -EBADMSG;
	*ret_seq = seq;
	*ret_entries = entries;
	return 0;
}

/* Parse the text, check its header and keep only the entries array. */
int ledger_format_snapshot_parse(const char *text, size_t len, uint64_t *ret_seq,
				 json_object **ret_entries)
{
	json_object *o = NULL, *entries = NULL;
	uint64_t seq = 0;
	int r;

	r = json_parse_exact(text, len, JSON_DEPTH_MAX, &o);
	if (r < 0)
		return r;
	r = snapshot_header(o, &seq, &entries);
	if (r >= 0) {
		*ret_seq = seq;
		*ret_entries = json_object_get(entries);
	}
	json_object_put(o);
	return r;
}

/* ---- states ---- */

/* Name of a state; NULL when out of range. */
const char *ledger_state_to_string(enum ledger_state s)
{
	if ((unsigned)s >= ELEMENTSOF(state_names))
		return NULL;
	return state_names[s];
}

/* State for a name; -EINVAL when unknown. */
int ledger_state_from_string(const char *s, enum ledger_state *ret)
{
	for (size_t i = 0; s && i < ELEMENTSOF(state_names); i++)
		if (strcmp(s, state_names[i]) == 0) {
			*ret = (enum ledger_state)i;
			return 0;
		}
	return -EINVAL;
}
