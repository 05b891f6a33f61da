/* SPDX-License-Identifier: MIT */
/* ledger_format.h: the ledger's on-disk format (daemon/LEDGER.md), internal to ledger.c. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "ledger.h"

#define JOURNAL_LINE_MAX (64u * 1024)      /* one journal line, newline included */
#define SNAPSHOT_MAX (256u * 1024 * 1024) /* whole snapshot file */

/* A journal record, decoded; both members are borrowed from the record object. */
struct ledger_record {
	uint64_t seq;
	json_object *entry; /* "put": the entry's JSON form, else NULL */
	const char *name;   /* "del": the name to remove, else NULL */
};

/*
 * Fill *ret from the JSON form of an entry (name and labels then owned by
 * *ret, userdata and children zero). -EBADMSG when it is malformed, -ENOMEM;
 * *ret is written only on success.
 */
int ledger_format_entry_from_json(json_object *o, struct ledger_entry *ret);

/*
 * The journal line {"rec":REC,"crc":"xxxxxxxx"}\n putting entry e with
 * sequence number seq, in *ret (malloc'd, NUL-terminated) and *ret_len.
 * -EFBIG over JOURNAL_LINE_MAX, -EINVAL when its labels would not read back.
 */
int ledger_format_put_line(const struct ledger_entry *e, uint64_t seq, char **ret, size_t *ret_len);
/* Bytes of e's JSON form (as in the snapshot) in *ret. 0 or -ENOMEM. */
int ledger_format_entry_size(const struct ledger_entry *e, size_t *ret);
/* The offset where a JSON parse of text fails (len when the text parses). */
size_t ledger_format_json_error_offset(const char *text, size_t len);
/* The journal line deleting name with sequence number seq; as above. */
int ledger_format_del_line(const char *name, uint64_t seq, char **ret, size_t *ret_len);

/*
 * Check the shape and crc of one journal line (without '\n') and parse its
 * record into *ret (owned). -EBADMSG when it is not a good line, -ENOMEM.
 */
int ledger_format_line_parse(const char *line, size_t len, json_object **ret);
/*
 * Decode a parsed record whose seq must be above prev_seq into *ret.
 * -EBADMSG when it is malformed, of an unknown op or out of sequence.
 */
int ledger_format_record_decode(json_object *rec, uint64_t prev_seq, struct ledger_record *ret);

/*
 * The snapshot file's text (the document and a newline) of the entries v[0..n),
 * sorted by name, as of sequence number seq. -EFBIG over SNAPSHOT_MAX, -ENOMEM.
 */
int ledger_format_snapshot_text(struct ledger_entry *const *v, size_t n, uint64_t seq, char **ret,
				size_t *ret_len);
/*
 * Parse the snapshot file's text: its sequence number in *ret_seq, its
 * entries array (owned) in *ret_entries. -EBADMSG when malformed,
 * -EPROTONOSUPPORT for another version, -ENOMEM.
 */
int ledger_format_snapshot_parse(const char *text, size_t len, uint64_t *ret_seq,
				 json_object **ret_entries);
