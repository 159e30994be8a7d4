/*
 * kinds.h - inside the registries: the field tables and the per-kind
 * hooks that registry.c drives.  Not for use outside src/registry.
 *
 * A kind is described by a table of fields (name, JSON type, limits, the
 * code list or identifier check it must pass) and three hooks: a pure
 * cross-field check that also pulls out the facts the projection needs, a
 * check that needs the database (parents, holders and heads exist), and the
 * projection upsert.  The facts travel from validation to projection so the
 * writer thread never parses a record twice.
 */
#ifndef LT_REGISTRY_KINDS_H
#define LT_REGISTRY_KINDS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "registry/registry.h"

/* How canonical records are dumped: compact, in field order, 0.5 as 0.5. */
#define REG_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

#define REG_KEY_MAX  64
#define REG_FOLD_MAX 404 /* 100 characters folded, with room */

/* What validation runs against. */
struct vctx {
    const struct units *u;
    int32_t effective; /* the change's effective day (units are checked on it) */
    int32_t today;
};

enum ftype {
    FT_STRING,  /* text: NFC, trimmed, at most max characters */
    FT_ENUM,    /* one of values[] */
    FT_DATE,    /* "YYYY-MM-DD" */
    FT_INT,     /* JSON integer in [min, maxv] */
    FT_NUMBER,  /* JSON number > 0 and <= maxv, at most decimals decimal places */
    FT_OBJECTS, /* array of objects of sub-fields, at most max items */
    FT_STRINGS, /* array of distinct strings, at most max items */
};

/* Extra checks on the text of a string field. */
enum fcheck {
    FC_NONE,
    FC_PERSON_ID,   /* 12-digit personal ID, province digits checked */
    FC_ENTERPRISE,  /* 10-digit enterprise code with its check digit */
    FC_PARCEL_ID,   /* commune-sheet-parcel, commune in force at the effective date */
    FC_COMMUNE,     /* a commune code in force at the effective date */
    FC_ETHNICITY,   /* "01".."54" */
    FC_NATIONALITY, /* ISO 3166-1 alpha-2 */
    FC_LAND_USE,    /* land-use purpose code */
    FC_VSIC,        /* industry code: 4 or 5 digits */
    FC_TOKEN,       /* ASCII letters, digits, '-', '.', '_' only */
};

#define F_REQUIRED 1u /* must be present and not null */
#define F_PAST     2u /* a date not after today */
#define F_DEFAULT  4u /* an absent array becomes [] in the canonical record */

struct field {
    const char *name;
    enum ftype type;
    unsigned flags;
    int max;                   /* characters (strings), items (arrays) */
    const char *const *values; /* FT_ENUM: NULL-terminated */
    enum fcheck check;         /* FT_STRING and FT_STRINGS items */
    int64_t min, maxv;         /* FT_INT bounds; FT_NUMBER upper bound */
    int decimals;              /* FT_NUMBER */
    const struct field *sub;   /* FT_OBJECTS: fields of each item, name NULL ends */
};

/* The facts of a canonical record the projection and the DB checks use. */
struct facts {
    char key[REG_KEY_MAX];
    char unit[UNIT_CODE_MAX];     /* "" when the kind has no unit */
    char province[UNIT_CODE_MAX]; /* the unit's province, "" likewise */
    char person[16];              /* residence, benefit: the person; household: the head;
                                   * business: the representative */
    char household[40];           /* residence: its household, or "" */
    char sub[24];                 /* residence kind, benefit scheme */
    bool head;                    /* residence: relation_to_head is "head" */
    /* person */
    char fold[REG_FOLD_MAX];
    int birth_year;
    int32_t birth_date;
    bool female;
    char father[16], mother[16];
    /* parcel */
    const json_t *holders; /* borrowed from the canonical record */
};

struct kind_def {
    const char *name;   /* "person" */
    const char *plural; /* "people" */
    const char *table;  /* "reg_people" */
    const struct field *fields;

    /* Cross-field checks on the canonical record; fill f. */
    enum lt_code (*check)(const struct vctx *v, const json_t *rec, struct facts *f,
                          struct lt_error *err);

    /*
     * Checks that read the database (inside the write transaction):
     * LT_EINVAL naming the field, or LT_ENOTFOUND (the same kind of field
     * error) when what is wrong is that a record it refers to does not
     * exist, which a later write may change: write.c reports both as
     * LT_EINVAL and flags the second for a retry (registry_result.retry).
     */
    enum lt_code (*check_db)(struct store_conn *c, const struct facts *f, struct lt_error *err);

    /* Insert or update the projection row (a newer version only). */
    enum lt_code (*project)(struct store_conn *c, const struct facts *f, int64_t version,
                            const char *text, struct lt_error *err);
};

/* An open node (node.c). */
struct node {
    struct store *store;
    struct evlog *log;
    const struct units *u;
};

extern const struct field person_fields[], residence_fields[], household_fields[], parcel_fields[],
    benefit_fields[], business_fields[];

extern const struct kind_def kind_person, kind_residence, kind_household, kind_parcel, kind_benefit,
    kind_business;

const struct kind_def *kind_get(enum registry_kind kind);

/*
 * Check in against fields and build the canonical object into out (which
 * must be empty): unknown fields, missing required ones, wrong JSON types,
 * lengths, codes and identifiers are refused with LT_EINVAL naming the
 * field (a path like "holders[1].share") in err->field.
 */
enum lt_code fields_validate(const struct vctx *v, const struct field *fields, const json_t *in,
                             json_t *out, const char *path, struct lt_error *err);

/*
 * Validate record as a kind at effective (DATE_MIN: today) into its
 * canonical shape (*canonical, new reference) and its facts.
 */
enum lt_code validate_record(const struct units *u, enum registry_kind kind, const json_t *record,
                             int32_t effective, json_t **canonical, struct facts *f,
                             struct lt_error *err);

/* Refuse with LT_EINVAL naming field: a printf-style message. */
enum lt_code field_error(struct lt_error *err, const char *field, const char *fmt, ...)
    LT_PRINTF(3, 4);

/*
 * The text of a canonical record, byte for byte what json_dumps gives with
 * REG_DUMP_FLAGS, in a fraction of its time (a sixth of a bulk import's
 * validation went to json_dumps).  *out (malloc'd, NUL-terminated, *len
 * bytes) is the caller's.  LT_ETOOBIG past cap bytes; LT_EINVAL for true,
 * false or null, which no canonical record holds (use json_dumps then).
 */
enum lt_code canon_dump(const json_t *rec, size_t cap, char **out, size_t *len);

/* True if valid UTF-8 text is NFC without normalising it (a quick check; false: maybe not). */
bool text_is_nfc(const char *s, size_t len);

/* The string value of a canonical field, or "" if absent. */
const char *rec_str(const json_t *rec, const char *name);

/* A date field of a canonical record (already validated); DATE_MIN if absent. */
int32_t rec_date(const json_t *rec, const char *name);

/* Copy s into a fixed buffer; BUG() if it does not fit (validated sizes). */
void copy_fact(char *dst, size_t cap, const char *s);

/* Set f->unit and f->province from a validated commune code. */
void facts_set_unit(const struct vctx *v, struct facts *f, const char *unit);

/* DB helpers shared by the kinds.  LT_ENOTFOUND naming field if missing (see check_db). */
enum lt_code db_require_person(struct store_conn *c, const char *id, const char *field,
                               struct lt_error *err);
enum lt_code db_require_business(struct store_conn *c, const char *code, const char *field,
                                 struct lt_error *err);

/* Run an upsert statement with its bindings done; LT_EIO/LT_ECONFLICT from the store. */
enum lt_code db_exec(struct store_stmt *st, struct lt_error *err);

/* What db_read_row hands over: the record text and version while the row is current. */
typedef void (*row_fn)(const char *text, size_t len, int64_t version, const char *unit, void *arg);

/*
 * The projection row of key on connection c (a reader, or the writer inside
 * a write callback), to fn.  LT_ENOTFOUND ("no <kind> ...") if there is none.
 */
enum lt_code db_read_row(struct store_conn *c, const struct kind_def *k, const char *key, row_fn fn,
                         void *arg, struct lt_error *err);

#endif
