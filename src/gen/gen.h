/*
 * gen.h - realistic synthetic registry data, deterministic by seed.
 *
 * For demos, tests and benchmarks: people with Vietnam's age pyramid, names
 * drawn from the shipped name frequencies (data/names), ethnic groups in
 * their national shares, households of plausible sizes living in real
 * communes, residential and farm parcels, businesses (mostly household
 * businesses) and social protection (health insurance cards, allowances for
 * the very old).  Every record is in the canonical shape of its registry
 * (registry.h) and passes its validation.
 *
 * The same options and seed always give the same records, byte for byte.
 */
#ifndef LT_GEN_H
#define LT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "registry/registry.h"
#include "units/units.h"

struct gen_options {
    const char *const *units; /* commune or province codes in force on today */
    size_t nunits;
    long people; /* people per commune (a province spreads over its communes) */
    uint64_t seed;
    int32_t today; /* the reference day: no date after it */
};

/*
 * Called for each record, in an order where every record comes after those
 * it refers to (people before residences, households and parcels).  The
 * record is borrowed.  A non-OK return stops the run and is returned.
 */
typedef enum lt_code (*gen_emit_fn)(enum registry_kind kind, json_t *record, void *arg,
                                    struct lt_error *err);

/*
 * Generate.  LT_EINVAL for a unit code that is not a commune or province in
 * force on o->today, or a count out of range (1 to 10,000,000).
 */
enum lt_code gen_run(const struct units *u, const struct gen_options *o, gen_emit_fn emit,
                     void *arg, struct lt_error *err);

#endif
