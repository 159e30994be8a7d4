/*
 * address_suggest.h - the closest names to what an address names but the
 * register does not (private to src/address).
 *
 * When the converter finds no commune it suggests units whose names are a
 * few edits away from the words before the recognised units: among the
 * communes of the district or province it did recognise, or else anywhere
 * in the country among the units that share a word with those words.  The
 * suggester is shared by the threads that share a converter.
 */
#ifndef LT_ADDRESS_SUGGEST_H
#define LT_ADDRESS_SUGGEST_H

#include <stddef.h>

#include "units/units.h"

struct address_suggester;

/* Where to look: the units under parent, children only (depth 1) or their
 * children too (depth 2). */
struct address_suggest_scope {
    const struct unit *parent;
    int depth;
};

/* A suggester over a register (borrowed; it must outlive the suggester). */
struct address_suggester *address_suggester_new(const struct units *u);
void address_suggester_free(struct address_suggester *s);

/*
 * Up to ADDRESS_MAX_SUGGESTIONS units into out, closest first, whose folded
 * name is within a few edits of the folded text q[0..qlen) or starts with
 * it; today's units first among equals.  With no scopes, the whole register
 * is searched through its word index.  Returns how many were written.
 */
size_t address_suggest(const struct address_suggester *s, const char *q, size_t qlen,
                       const struct address_suggest_scope *scopes, size_t nscopes,
                       const struct unit **out);

#endif
