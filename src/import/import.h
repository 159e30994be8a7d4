/*
 * import.h - importing a file into one registry.
 *
 * Rows are read (reader.h), turned into records (rows.h) and written in
 * batches through a registry stream, so reading and validating run on the
 * calling thread while the store's writer thread writes the batch before.
 * Each row is one change with base version 0: a record that exists already
 * is refused, so importing a file twice changes nothing the second time.
 * Every refused row is reported with its line, in file order, and the rest
 * go on; a row is written whole or not at all.  With all_or_nothing the
 * whole file is one transaction and any refused row writes nothing.
 */
#ifndef LT_IMPORT_H
#define LT_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "import/reader.h"
#include "registry/registry.h"

struct import_stats {
    int64_t read;    /* rows read (a CSV header is not a row) */
    int64_t written; /* rows committed */
    int64_t refused; /* rows refused, each reported */
    uint64_t bytes;  /* input consumed */
};

struct import_options {
    enum registry_kind kind;
    bool all_or_nothing;
    const char *actor; /* each event's actor, e.g. "import" */
    const char *cause; /* each event's cause, e.g. "import:people.csv" */
    size_t batch;      /* rows per batch, 1..REGISTRY_BATCH_MAX; 0: a default */
    /* A row refused (line, why), in file order; why->field names the field when known. */
    void (*refused)(void *arg, long line, const struct lt_error *why);
    /* Called after each batch and at the end. */
    void (*progress)(void *arg, const struct import_stats *st);
    void *arg;
};

/*
 * Import the rows of r (CSV or NDJSON, as r was opened) into node n.  LT_OK
 * when the input was read to its end, whatever was refused (*st tells);
 * LT_EINVAL for a CSV header that does not name the kind's columns
 * (nothing read past it; reported through refused too, as its line); LT_EIO when the input cannot
 * be read or the store fails (the rows committed before stay, without all_or_nothing).
 */
enum lt_code import_run(struct node *n, struct import_reader *r, const struct import_options *o,
                        struct import_stats *st, struct lt_error *err);

#endif
