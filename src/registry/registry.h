/*
 * registry.h - the registries: people, residence, households, land, social
 * protection and businesses, as projections of the event log.
 *
 * Design note.  A registry write is one store_write callback that validates
 * the record, appends its event (evlog_append) and updates the projection
 * tables, so the log and the tables never disagree.  Records go in and come
 * out as JSON objects in one canonical shape per kind (below); field tables
 * per kind drive validation, CSV columns for import and export, and the
 * refusal of unknown fields, so the HTTP API, import, export and the
 * generator all speak the same shape.  Text is stored NFC; names are also
 * stored folded for search ("nguyen van an" finds "Nguyễn Văn An").
 *
 * Kinds, keys and canonical records:
 *   person     id (12-digit personal ID)
 *              { id, full_name, birth_date, sex: "male"|"female",
 *                ethnicity: "01".."54", nationality: "VN" (ISO 3166 alpha-2),
 *                status: "alive"|"deceased", death_date?, father_id?, mother_id? }
 *   residence  "<person id>/permanent" or "<person id>/temporary"
 *              { person_id, kind: "permanent"|"temporary", unit (commune code),
 *                village?, address_line, household_id?, relation_to_head?,
 *                from_date, to_date? }
 *   household  id (the household book number, free text up to 32)
 *              { id, head_id, unit, address_line }
 *              (id: letters, digits, '-', '.', '_' only, as it is part of
 *              URLs and of the entity name)
 *   parcel     "<commune code>-<map sheet>-<parcel no>"
 *              { id, unit, map_sheet, parcel_no, area_m2 (> 0, at most one
 *                decimal), purpose (land-use code), holders: [{ kind:
 *                "person"|"business", id, share }], certificate_no?,
 *                encumbrances: [{ kind: "mortgage"|"lease"|"easement",
 *                holder, amount_vnd?, registered_on, released_on? }] }
 *              (share: a fraction of 1 with at most 6 decimals; the shares
 *              of a parcel sum to 1; encumbrances absent means [])
 *   benefit    "<person id>/<scheme>"
 *              { person_id, scheme: "health_insurance"|"social_insurance"|
 *                "social_assistance", card_no?, category?, monthly_amount_vnd?,
 *                start_date, end_date?, status: "active"|"suspended"|"ended" }
 *              (card_no: letters, digits, '-', '.', '_', up to 20)
 *   business   code (10-digit enterprise code with its check digit)
 *              { code, name, legal_form, unit, address_line,
 *                representative_id, capital_vnd, industry_codes: [..],
 *                status: "active"|"suspended"|"dissolved" }
 *              (legal_form: "sole_proprietorship", "llc_single_member",
 *              "llc_multi_member", "joint_stock", "partnership",
 *              "cooperative", "household_business"; name up to 200
 *              characters; industry_codes: distinct 4- or 5-digit VSIC
 *              codes, absent means [])
 * residence.relation_to_head: "head", "spouse", "child", "parent",
 * "grandchild", "grandparent", "sibling", "daughter_in_law", "son_in_law",
 * "other"; given exactly when household_id is.  Names (full_name, village,
 * category, holder) are at most 100 characters, address lines 200; text is
 * trimmed and NFC.  Optional fields that are absent, null or "" are left
 * out of the canonical record.  Records are dumped with
 * JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) so that
 * 0.5 and 123.4 read as written: do the same when you dump one.
 *
 * Where a record lives: residences, households, parcels and businesses are
 * in their unit; people and benefits in the unit of the person's permanent
 * residence (none until one is written).  A province code means all its
 * communes, as they were when each record was written.
 * Dates are "YYYY-MM-DD"; birth_date, death_date, from_date,
 * registered_on and released_on may not be in the future, and an end
 * (death_date, to_date, end_date, released_on) may not come before its
 * start.  Unit codes are checked against the units register at the
 * change's effective date.  A person's ID agrees with birth_date and sex;
 * status "deceased" goes with death_date; parents are registered people
 * (father male, mother female) born before the child.
 */
#ifndef LT_REGISTRY_H
#define LT_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/error.h"
#include "evlog/evlog.h"
#include "store/store.h"
#include "units/units.h"

enum registry_kind {
    REG_PERSON,
    REG_RESIDENCE,
    REG_HOUSEHOLD,
    REG_PARCEL,
    REG_BENEFIT,
    REG_BUSINESS,
    REG_KIND_COUNT,
};

/* "person", "residence", ... (also the entity prefix in the event log). */
const char *registry_kind_name(enum registry_kind kind);

/* The kind for a name, accepting the plural used in URLs and CLI
 * ("people", "residences", "households", "parcels", "benefits",
 * "businesses").  false if unknown. */
bool registry_kind_parse(const char *name, enum registry_kind *out);

/* An open node: its store, its event log, the units register. */
struct node;

/*
 * Open the node in data directory dir (made by "lienthong init"): the store
 * (which brings the schema, registry tables included, up to date), its
 * event log and the built-in units register.  Errors of store_open and
 * evlog_open.
 */
enum lt_code node_open(const char *dir, const struct store_options *o, struct node **out,
                       struct lt_error *err);
void node_close(struct node *n); /* NULL ok */
struct store *node_store(struct node *n);
struct evlog *node_evlog(struct node *n);
const struct units *node_units(struct node *n);

/* One change to one record. */
struct registry_change {
    enum registry_kind kind;
    json_t *record;         /* the whole record after the change (borrowed) */
    int64_t base_version;   /* 0: the record must be new; else its current version */
    const char *actor;      /* who: required, < EVLOG_ACTOR_MAX bytes */
    const char *cause;      /* legal cause: a dossier code, "import:people.csv";
                             * required, < EVLOG_CAUSE_MAX bytes */
    int32_t effective;      /* the day it takes effect; DATE_MIN: today */
    const char *event_type; /* NULL: "<kind>.registered" (base 0) or "<kind>.changed";
                             * else "<kind>.<verb>", lower case, e.g. "person.died" */
    bool skip_same;         /* a change that leaves the record as it is at base_version
                             * writes nothing: *version stays base_version */
};

/*
 * Validate and write one change.  On success *version is the record's new
 * version.  Errors, with nothing written: LT_EINVAL (the field at fault in
 * err->field: a record field, or "actor", "cause", "event_type"),
 * LT_ECONFLICT (stale base_version: the current one in the detail and in
 * *version; or a record that exists when base_version is 0), LT_ENOTFOUND
 * (a change to a record that does not exist), LT_ETOOBIG (a record over
 * EVLOG_BODY_MAX), LT_EIO.
 */
enum lt_code registry_write(struct node *n, const struct registry_change *ch, int64_t *version,
                            struct lt_error *err);

/*
 * registry_write inside the caller's store_write callback on connection c,
 * so that the change commits or rolls back with the caller's own writes
 * (the one-stop shop applies a dossier's effects with its approval event).
 * The same validation, checks and errors as registry_write; the caller's
 * callback must fail (and so roll back) when this fails, as a failure after
 * the append leaves the savepoint poisoned.
 */
enum lt_code registry_write_in(struct node *n, struct store_conn *c,
                               const struct registry_change *ch, int64_t *version,
                               struct lt_error *err);

/* The outcome of one change of a batch. */
struct registry_result {
    enum lt_code code; /* LT_OK: written */
    int64_t version;   /* the new version; with LT_ECONFLICT the current one */
    bool retry;        /* refused (LT_EINVAL) only for a record it refers to that is not
                        * there: it may pass once that record is written */
    struct lt_error err;
};

#define REGISTRY_BATCH_MAX 10000

/*
 * Write many changes in one store_write (one transaction, one commit), for
 * import.  Each change is validated in the calling thread (so the writer
 * thread only checks the database, appends and projects) and then written
 * in order, so a change may refer to a record written earlier in the same
 * batch (a residence to its person).  results[i] (count of them, filled
 * here) tells each change's fate; *written (may be NULL) counts those
 * written.
 *
 * all_or_nothing: the first change refused stops the batch and nothing is
 * written; the function returns that change's code with its error in err
 * (message prefixed "row N: ", 0-based); the other changes report
 * "not written".
 * Otherwise refused changes are skipped and the rest are written; the
 * function returns LT_OK.  In both modes a failure of the store itself
 * (LT_EIO) fails every change and is returned.  LT_ETOOBIG for count over
 * REGISTRY_BATCH_MAX.
 */
enum lt_code registry_write_batch(struct node *n, const struct registry_change *changes,
                                  size_t count, bool all_or_nothing,
                                  struct registry_result *results, size_t *written,
                                  struct lt_error *err);

/*
 * A stream of batches, for bulk writing (import).  Each batch is validated
 * in the calling thread by registry_stream_push and written by the store's
 * writer thread while the caller reads and validates the next one, so an
 * import runs on two cores.  Batches are written in the order pushed, so a
 * change may refer to one pushed before it.
 *
 * Without all_or_nothing batches are written as they come and committed
 * every few seconds or couple of hundred thousand changes (one fsync for
 * many batches; the store's writer is held by the stream meanwhile); a
 * refused change writes nothing and the rest go on, as in
 * registry_write_batch.  With all_or_nothing the whole stream is one
 * transaction, and the store's writer is held by it (other writes wait)
 * until registry_stream_finish: every change is still tried, so that each
 * refusal is reported, and if any was refused finish rolls everything
 * back.  A change refused with retry set (a record it refers to is
 * missing) does not count: the caller may push it again later in the
 * stream, or finish with commit false.
 */
struct registry_stream;

enum lt_code registry_stream_open(struct node *n, bool all_or_nothing, struct registry_stream **out,
                                  struct lt_error *err);

/*
 * Validate changes[0..count) (count at most REGISTRY_BATCH_MAX) and queue
 * them for writing; return without waiting for the writer.  The records
 * may be freed on return; results (count of them) must stay valid until
 * registry_stream_reap hands tag back, and are filled by then.  LT_ETOOBIG
 * for too many changes; LT_EIO (nothing queued) once a write of the stream
 * failed in the store.
 */
enum lt_code registry_stream_push(struct registry_stream *s, const struct registry_change *changes,
                                  size_t count, struct registry_result *results, void *tag,
                                  struct lt_error *err);

/*
 * Wait for the oldest batch pushed and not yet reaped to be written and
 * hand back its tag: its refusals are final; LT_OK means written in the
 * stream's open transaction, and committed unless finish says otherwise
 * (with all_or_nothing: if anything was refused; without it: only if a
 * commit fails, which fails the stream).  false when no batch is waiting.
 */
bool registry_stream_reap(struct registry_stream *s, void **tag);

/*
 * End the stream: wait for the writer, commit what is left (with
 * all_or_nothing: commit all, or roll all back if a change was refused or
 * if commit is false, as when the caller refused input of its own), and
 * free s.  Reap the batches still waiting before.  *written (may be NULL)
 * counts the changes committed over the stream's life.  LT_OK, LT_EINVAL
 * when all_or_nothing rolled back, or the store's error (LT_EIO) when a
 * write of the stream failed.
 */
enum lt_code registry_stream_finish(struct registry_stream *s, bool commit, int64_t *written,
                                    struct lt_error *err);

/*
 * Validate a record without writing: the checks that need no database
 * (formats, check digits, codes, dates, units at the effective date).
 * On success *canonical (new reference) is the record in canonical shape.
 * effective DATE_MIN means today.
 */
enum lt_code registry_validate(const struct units *u, enum registry_kind kind, const json_t *record,
                               int32_t effective, json_t **canonical, struct lt_error *err);

/*
 * The key of a canonical record (as registry_validate gives it) into
 * out[0..cap): "001085012345", "001085012345/permanent", "00004-12-345".
 * LT_EINVAL if the record has no key fields, LT_ETOOBIG if cap is short.
 */
enum lt_code registry_record_key(enum registry_kind kind, const json_t *canonical, char *out,
                                 size_t cap, struct lt_error *err);

/* The record and its version.  LT_ENOTFOUND if none. */
enum lt_code registry_get(struct node *n, enum registry_kind kind, const char *key, json_t **record,
                          int64_t *version, struct lt_error *err);

/* registry_get on connection c: a reader, or the writer inside a callback, which
 * sees the callback's own uncommitted writes. */
enum lt_code registry_get_in(struct store_conn *c, enum registry_kind kind, const char *key,
                             json_t **record, int64_t *version, struct lt_error *err);

/*
 * The same without parsing: the record's JSON text (as stored: compact,
 * canonical) appended to out, for handlers that send it as it is.
 */
enum lt_code registry_get_text(struct node *n, enum registry_kind kind, const char *key,
                               struct buf *out, int64_t *version, struct lt_error *err);

/*
 * registry_get_text, and the unit the record lives in (see "Where a record
 * lives" above) into unit[UNIT_CODE_MAX] (may be NULL): "" for a person or
 * a benefit whose person has no permanent residence yet.  For the
 * jurisdiction check of a read, without parsing the record.
 */
enum lt_code registry_get_text_unit(struct node *n, enum registry_kind kind, const char *key,
                                    struct buf *out, int64_t *version, char *unit,
                                    struct lt_error *err);

/*
 * The kind and the key of a registry entity ("person/001085012345" gives
 * REG_PERSON and "001085012345" in key[0..cap)); false if entity is not a
 * registry record's or its key does not fit.
 */
bool registry_entity_parse(const char *entity, enum registry_kind *kind, char *key, size_t cap);

/* registry_get_text_unit on connection c (a reader, or the writer in a callback). */
enum lt_code registry_get_text_unit_in(struct store_conn *c, enum registry_kind kind,
                                       const char *key, struct buf *out, int64_t *version,
                                       char *unit, struct lt_error *err);

/* The record as it was on date (events set aside do not count).  LT_ENOTFOUND if it did not
 * exist then. */
enum lt_code registry_get_as_of(struct node *n, enum registry_kind kind, const char *key,
                                int32_t date, json_t **record, struct lt_error *err);

/* Its history: [{pos, origin, seq, time, actor, type, cause, effective,
 * version, set_aside, record}] oldest first; time is the event's clock as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", effective a date; set_aside true for an event
 * from elsewhere that was based on a stale version and did not change the
 * record (src/sync/conflict.h).  LT_ENOTFOUND if the record has no event. */
enum lt_code registry_history(struct node *n, enum registry_kind kind, const char *key,
                              json_t **events, struct lt_error *err);

#define REGISTRY_LIST_MAX 1000

/*
 * Records of a unit (a commune, or a province: all its communes; NULL or
 * "VN": the whole node), in key order after the key "after" (NULL: from
 * the start), at most limit (1..REGISTRY_LIST_MAX; more is cut to it).
 * *page (new reference) is { "items": [records], "next": key|null }.
 * LT_ENOTFOUND for a unit code that never existed, LT_EINVAL for a
 * district or a limit below 1.
 */
enum lt_code registry_list(struct node *n, enum registry_kind kind, const char *unit,
                           const char *after, int limit, json_t **page, struct lt_error *err);

/*
 * People by name (with or without diacritics, any case: the folded full
 * name equals the folded query or starts with it followed by a space, so
 * "nguyen van" finds "Nguyễn Văn An" but "nguyen van a" does not),
 * optionally born in birth_year (0: any) and living in unit (a commune or
 * a province, by permanent residence; NULL: any).  *results (new reference)
 * is an array of person records: exact name matches first (by birth year,
 * then ID), then the longer names (by folded name, birth year, ID); at most
 * limit (1..REGISTRY_LIST_MAX).
 */
enum lt_code registry_search_people(struct node *n, const char *name, int birth_year,
                                    const char *unit, int limit, json_t **results,
                                    struct lt_error *err);

/*
 * Inside a write (the sync layer, after evlog_apply_remote): bring the
 * projection up to date with an event, if it is a registry event ("<kind>/
 * <key>" entity); other events are ignored.  Older versions than the row's
 * change nothing.  An event set aside (applied on a stale base, see
 * event_set_aside and the conflict inbox, src/sync/conflict.h) is checked
 * the same but leaves the record as it was: the row only takes the event's
 * version, so that reads give the version a change must name.  LT_EINVAL
 * if the body is not a valid record of its kind.
 */
enum lt_code registry_apply_event(struct store_conn *c, const struct units *u,
                                  const struct event *ev, struct lt_error *err);

/* Rebuild every projection row from the event log (after a restore or a
 * schema change); *events (may be NULL) counts the events read. */
enum lt_code registry_rebuild(struct node *n, int64_t *events, struct lt_error *err);

/* The CSV columns of a kind, in order, NULL-terminated (nested arrays are
 * written as JSON text in their column). */
const char *const *registry_columns(enum registry_kind kind);

/* Whether column i of registry_columns(kind) must hold a value (a header may leave out the others).
 */
bool registry_column_required(enum registry_kind kind, size_t i);

/*
 * A record from the cells of one CSV row, in registry_columns order
 * (ncells must match): "" leaves the field out, integer and number columns
 * are parsed, array columns are JSON text.  *record (new reference) still
 * needs validating.  LT_EINVAL naming the column at fault.
 */
enum lt_code registry_record_from_cells(enum registry_kind kind, const char *const *cells,
                                        size_t ncells, json_t **record, struct lt_error *err);

/*
 * Append one CSV line (RFC 4180 quoting, "\n" at the end) of a canonical
 * record to out, in registry_columns order.  LT_ETOOBIG past out's cap.
 */
enum lt_code registry_record_to_csv(enum registry_kind kind, const json_t *record, struct buf *out);

#endif
