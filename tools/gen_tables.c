/*
 * gen_tables.c - write the built-in register and the address converter's
 * indexes as C constants, at build time.
 *
 * Usage: gen_tables OUT.c
 *
 * Linked with the register and converter code itself (built with
 * -DLT_NO_TABLES), it parses the embedded CSV files with units_load_csv,
 * builds the converter with address_converter_build, and writes what
 * units_export_tables and address_export_tables give as arrays, so that a
 * process starts with both ready (src/units/units_tables.h,
 * src/address/address_tables.h).  Numbers are written in decimal, strings
 * as string literals, one per source line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address/address_tables.h"
#include "units/units_tables.h"

static FILE *out;

/* A run of bytes as a string literal (NULs included), named name. */
static void write_bytes(const char *name, const char *data, size_t len)
{
    fprintf(out, "static const char %s[%zu] =\n    \"", name, len + 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];

        if (c == '"' || c == '\\') {
            fprintf(out, "\\%c", c);
        } else if (c >= 0x20 && c < 0x7f && c != '?') {
            fputc(c, out);
        } else {
            fprintf(out, "\\%03o", (unsigned)c); /* octal: never runs on */
        }
        if (c == '\0' || (i % 100 == 99)) {
            fputs("\"\n    \"", out);
        }
    }
    fputs("\";\n\n", out);
}

static void write_u32s(const char *name, const uint32_t *v, size_t n)
{
    fprintf(out, "static const uint32_t %s[%zu] = {", name, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s%" PRIu32 ",", i % 12 == 0 ? "\n    " : " ", v[i]);
    }
    fputs(n ? "\n};\n\n" : " 0 };\n\n", out);
}

static void write_units(const struct units_tables *t)
{
    write_bytes("unit_strings", t->strings, t->strings_len);
    fprintf(out, "static const struct units_row unit_rows[%" PRIu32 "] = {\n", t->n);
    for (uint32_t i = 0; i < t->n; i++) {
        const struct units_row *r = &t->rows[i];

        fprintf(out,
                "    { \"%s\", %" PRIu32 ", %" PRIu32 ", %" PRIu32 ", %" PRIu32 ", %" PRId32
                ", %" PRId32 ", %" PRId32 ", %u, %u },\n",
                r->code, r->name, r->short_name, r->alt_name, r->fold, r->parent, r->valid_from,
                r->valid_to, (unsigned)r->type, (unsigned)r->level);
    }
    fputs("};\n\n", out);
    write_u32s("unit_child_off", t->child_off, (size_t)t->n + 1);
    write_u32s("unit_child_ids", t->child_ids, t->n > 0 ? (size_t)t->n - 1 : 0);
    write_u32s("unit_succ_off", t->succ_off, (size_t)t->n + 1);
    write_u32s("unit_pred_off", t->pred_off, (size_t)t->n + 1);
    for (int dir = 0; dir < 2; dir++) {
        const struct units_edge *e = dir == 0 ? t->succ : t->pred;

        fprintf(out, "static const struct units_edge unit_%s[%" PRIu32 "] = {\n",
                dir == 0 ? "succ" : "pred", t->nedges ? t->nedges : 1);
        for (uint32_t i = 0; i < t->nedges; i++) {
            fprintf(out, "    { %" PRIu32 ", %" PRIu32 ", %d },\n", e[i].from, e[i].to,
                    (int)e[i].kind);
        }
        fputs(t->nedges ? "};\n\n" : "    { 0, 0, 0 }\n};\n\n", out);
    }
    write_bytes("unit_code_arena", t->code_arena, t->code_arena_len);
    fprintf(out, "static const struct strmap_entry unit_code_entries[%" PRIu32 "] = {\n",
            t->ncode_entries);
    for (uint32_t i = 0; i < t->ncode_entries; i++) {
        const struct strmap_entry *e = &t->code_entries[i];

        fprintf(out, "    { %" PRIu32 ", %" PRIu32 ", %" PRIu32 "u, %" PRIu32 ", %" PRIu32 "u },\n",
                e->key_off, e->key_len, e->hash, e->value, e->next);
    }
    fputs("};\n\n", out);
    write_u32s("unit_code_buckets", t->code_buckets, t->ncode_buckets);
    fprintf(out,
            "const struct units_tables units_builtin_tables = {\n"
            "    %" PRIu32 ", %" PRIu32 ", unit_rows, unit_strings, %zu,\n"
            "    unit_child_off, unit_child_ids, unit_succ, unit_pred, unit_succ_off,\n"
            "    unit_pred_off, unit_code_entries, %" PRIu32 ", unit_code_buckets, %" PRIu32 ",\n"
            "    unit_code_arena, %zu,\n};\n\n",
            t->n, t->nedges, t->strings_len, t->ncode_entries, t->ncode_buckets, t->code_arena_len);
}

static void write_index(const char *name, const struct address_index_tables *t)
{
    char sym[64];

    snprintf(sym, sizeof(sym), "%s_arena", name);
    write_bytes(sym, t->arena, t->arena_len);
    fprintf(out, "static const struct address_index_key %s_keys[%" PRIu32 "] = {\n", name,
            t->nkeys + 1);
    for (uint32_t i = 0; i <= t->nkeys; i++) {
        const struct address_index_key *k = &t->keys[i];

        fprintf(out, "    { %" PRIu32 ", %" PRIu32 ", %" PRIu32 "u, %" PRIu32 " },\n",
                i < t->nkeys ? k->off : 0, i < t->nkeys ? k->len : 0, i < t->nkeys ? k->hash : 0,
                k->first);
    }
    fputs("};\n\n", out);
    snprintf(sym, sizeof(sym), "%s_slots", name);
    write_u32s(sym, t->slots, 2 * ((size_t)t->mask + 1));
    snprintf(sym, sizeof(sym), "%s_values", name);
    write_u32s(sym, t->values, t->nvalues);
}

static void write_address(const struct address_tables *t)
{
    write_index("addr_index", &t->index);
    write_index("addr_names", &t->names);
    write_u32s("addr_oldp", t->oldp, t->noldp);
    write_u32s("addr_oldp_next", t->oldp_next, t->noldp);
    fprintf(out,
            "const struct address_tables address_builtin_tables = {\n"
            "    { %" PRIu32 ", %" PRIu32 ", addr_index_keys, addr_index_slots, addr_index_arena,"
            " %zu, addr_index_values, %zu },\n"
            "    { %" PRIu32 ", %" PRIu32 ", addr_names_keys, addr_names_slots, addr_names_arena,"
            " %zu, addr_names_values, %zu },\n"
            "    %" PRIu32 ", addr_oldp, addr_oldp_next,\n};\n",
            t->index.nkeys, t->index.mask, t->index.arena_len, t->index.nvalues, t->names.nkeys,
            t->names.mask, t->names.arena_len, t->names.nvalues, t->noldp);
}

int main(int argc, char **argv)
{
    struct units *u;
    struct address_converter *c;
    struct units_tables ut;
    struct address_tables at;

    if (argc != 2) {
        fprintf(stderr, "usage: gen_tables OUT.c\n");
        return 2;
    }
    u = units_load_csv();
    c = address_converter_build(u);
    units_export_tables(u, &ut);
    address_export_tables(c, &at);
    out = fopen(argv[1], "w");
    if (out == NULL) {
        fprintf(stderr, "gen_tables: could not create \"%s\": %s\n", argv[1], strerror(errno));
        return 1;
    }
    fputs("/* Generated by tools/gen_tables.c from data/units. Do not edit. */\n"
          "#include \"address/address_tables.h\"\n"
          "#include \"units/units_tables.h\"\n\n",
          out);
    write_units(&ut);
    write_address(&at);
    if (fclose(out) != 0) {
        fprintf(stderr, "gen_tables: could not write \"%s\": %s\n", argv[1], strerror(errno));
        return 1;
    }
    return 0;
}
