/*
 * cli_units.c - "lienthong units": the units register on the command line.
 *
 *   lienthong units get CODE [--date D]
 *   lienthong units history CODE
 *   lienthong units children CODE [--date D|any]
 *   lienthong units parents CODE [--date D]
 *   lienthong units successors CODE [--date D]
 *   lienthong units predecessors CODE [--date D]
 *   lienthong units search QUERY [--date D] [--limit N]
 *
 * Text for a person by default, JSON with --json (the shapes of the HTTP
 * API, from unit_json.c).  Without --date a code means the unit in force
 * today, or the last one that carried it.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/date.h"
#include "core/error.h"
#include "units/unit_json.h"
#include "units/units.h"
#include "core/banned.h"

#define LIST_MAX 4096

struct units_opts {
    bool json;
    bool any_date; /* --date any */
    bool has_date;
    int32_t date;
    long limit;
};

static const char usage_text[] =
    "usage: lienthong units <verb> [options]\n"
    "\n"
    "verbs:\n"
    "  get CODE            the unit with this code (in force on --date)\n"
    "  history CODE        every unit that has carried this code\n"
    "  children CODE       its child units (--date any: of every period)\n"
    "  parents CODE        its chain of parents up to the nation\n"
    "  successors CODE     the units that took it over, transitively\n"
    "  predecessors CODE   the units it took over, transitively\n"
    "  search QUERY        units by name, with or without diacritics\n"
    "\n"
    "options:\n"
    "  --date YYYY-MM-DD   the day the code is read on (default: today, or the\n"
    "                      last day the code was in force)\n"
    "  --limit N           at most N search results (default 20)\n"
    "  --json              JSON output, as the HTTP API gives it\n";

static void print_unit_line(const struct unit *unit, const char *indent)
{
    char from[DATE_STR_MAX], to[DATE_STR_MAX];

    date_format(unit->valid_from, from);
    date_format(unit->valid_to, to);
    printf("%s%-6s %s (%s", indent, unit->code, unit->name, unit_type_name(unit->type));
    if (unit->valid_from != DATE_MIN || unit->valid_to != DATE_MAX) {
        printf(", %s..%s", from[0] ? from : "", to[0] ? to : "");
    }
    printf(")\n");
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    puts(s);
    free(s);
    json_decref(j);
}

static int fail(struct lt_error *err)
{
    lt_error_print(err, stderr);
    return err->code == LT_EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

/* The unit a code names under the options, or an error that says why not. */
static const struct unit *resolve(const struct units *u, const char *code,
                                  const struct units_opts *o, struct lt_error *err)
{
    const struct unit *unit;
    const struct unit *all[8];
    size_t n;

    unit = o->has_date ? units_find(u, code, o->date) : units_find_default(u, code);
    if (unit != NULL) {
        return unit;
    }
    n = units_find_all(u, code, all, 8);
    if (n == 0) {
        lt_error_set(err, LT_ENOTFOUND, "no unit has the code \"%s\"", code);
        lt_error_hint(err, "search by name: lienthong units search \"<name>\"");
        return NULL;
    }
    char from[DATE_STR_MAX], to[DATE_STR_MAX];
    date_format(all[n - 1]->valid_from, from);
    date_format(all[n - 1]->valid_to, to);
    lt_error_set(err, LT_ENOTFOUND, "no unit had the code \"%s\" on that date", code);
    lt_error_detail(err, "\"%s\" was %s from %s to %s", code, all[n - 1]->name,
                    from[0] ? from : "the start of our records", to[0] ? to : "today");
    return NULL;
}

static int verb_get(const struct units *u, const char *code, const struct units_opts *o)
{
    struct lt_error err;
    const struct unit *unit = resolve(u, code, o, &err);
    const struct unit *p;

    if (unit == NULL) {
        return fail(&err);
    }
    if (o->json) {
        print_json(unit_to_json(u, unit));
        return EXIT_OK;
    }
    print_unit_line(unit, "");
    for (p = unit_parent(u, unit); p != NULL; p = unit_parent(u, p)) {
        print_unit_line(p, "  in ");
    }
    if (unit->alt_name != NULL) {
        printf("  also written: %s\n", unit->alt_name);
    }
    return EXIT_OK;
}

static int verb_history(const struct units *u, const char *code, const struct units_opts *o)
{
    const struct unit *all[8];
    size_t n = units_find_all(u, code, all, 8);
    struct lt_error err;

    if (n == 0) {
        lt_error_set(&err, LT_ENOTFOUND, "no unit has the code \"%s\"", code);
        return fail(&err);
    }
    if (o->json) {
        json_t *a = json_array();

        for (size_t i = 0; i < n && i < 8; i++) {
            json_array_append_new(a, unit_to_json(u, all[i]));
        }
        print_json(a);
        return EXIT_OK;
    }
    for (size_t i = 0; i < n && i < 8; i++) {
        print_unit_line(all[i], "");
    }
    return EXIT_OK;
}

static int verb_children(const struct units *u, const char *code, const struct units_opts *o)
{
    struct lt_error err;
    const struct unit *unit = resolve(u, code, o, &err);
    const struct unit **kids;
    size_t n;
    int32_t date;

    if (unit == NULL) {
        return fail(&err);
    }
    /* The nation has old and new provinces: by default show today's. */
    date = o->any_date                  ? DATE_MIN
           : o->has_date                ? o->date
           : unit->valid_to == DATE_MAX ? date_today()
                                        : unit->valid_to;
    kids = malloc(sizeof(*kids) * LIST_MAX);
    n = units_children(u, unit, date, kids, LIST_MAX);
    if (n > LIST_MAX) {
        n = LIST_MAX;
    }
    if (o->json) {
        json_t *a = json_array();

        for (size_t i = 0; i < n; i++) {
            json_array_append_new(a, unit_ref_json(kids[i]));
        }
        print_json(json_pack("{s:o, s:o}", "unit", unit_ref_json(unit), "children", a));
    } else {
        print_unit_line(unit, "");
        for (size_t i = 0; i < n; i++) {
            print_unit_line(kids[i], "  ");
        }
        printf("%zu children\n", n);
    }
    free(kids);
    return EXIT_OK;
}

static int verb_parents(const struct units *u, const char *code, const struct units_opts *o)
{
    struct lt_error err;
    const struct unit *unit = resolve(u, code, o, &err);

    if (unit == NULL) {
        return fail(&err);
    }
    if (o->json) {
        json_t *a = json_array();

        for (const struct unit *p = unit_parent(u, unit); p != NULL; p = unit_parent(u, p)) {
            json_array_append_new(a, unit_ref_json(p));
        }
        print_json(json_pack("{s:o, s:o}", "unit", unit_ref_json(unit), "parents", a));
        return EXIT_OK;
    }
    print_unit_line(unit, "");
    for (const struct unit *p = unit_parent(u, unit); p != NULL; p = unit_parent(u, p)) {
        print_unit_line(p, "  in ");
    }
    return EXIT_OK;
}

static int verb_lineage(const struct units *u, const char *code, const struct units_opts *o,
                        bool forward)
{
    struct lt_error err;
    const struct unit *unit = resolve(u, code, o, &err);
    struct unit_link links[LIST_MAX / 8];
    size_t n;
    const char *key = forward ? "successors" : "predecessors";

    if (unit == NULL) {
        return fail(&err);
    }
    n = forward ? units_successors(u, unit, links, LIST_MAX / 8)
                : units_predecessors(u, unit, links, LIST_MAX / 8);
    if (n > LIST_MAX / 8) {
        n = LIST_MAX / 8;
    }
    if (o->json) {
        json_t *a = json_array();

        for (size_t i = 0; i < n; i++) {
            json_array_append_new(a, unit_link_json(&links[i]));
        }
        print_json(json_pack("{s:o, s:o}", "unit", unit_ref_json(unit), key, a));
        return EXIT_OK;
    }
    print_unit_line(unit, "");
    if (n == 0) {
        printf("  no %s\n", key);
    }
    for (size_t i = 0; i < n; i++) {
        printf("  %s %-7s ", forward ? "->" : "<-", unit_edge_kind_name(links[i].kind));
        print_unit_line(links[i].unit, "");
    }
    return EXIT_OK;
}

static int verb_search(const struct units *u, const char *query, const struct units_opts *o)
{
    const struct unit **found = malloc(sizeof(*found) * (size_t)o->limit);
    int32_t date = o->has_date ? o->date : DATE_MIN;
    size_t total = units_search(u, query, date, found, (size_t)o->limit);
    size_t n = total < (size_t)o->limit ? total : (size_t)o->limit;

    if (o->json) {
        json_t *a = json_array();

        for (size_t i = 0; i < n; i++) {
            json_array_append_new(a, unit_to_json(u, found[i]));
        }
        print_json(
            json_pack("{s:s, s:I, s:o}", "query", query, "total", (json_int_t)total, "results", a));
    } else {
        for (size_t i = 0; i < n; i++) {
            const struct unit *p = unit_parent(u, found[i]);

            printf("%-6s %s", found[i]->code, found[i]->name);
            for (; p != NULL && p->level != UNIT_NATION; p = unit_parent(u, p)) {
                printf(", %s", p->name);
            }
            printf(found[i]->valid_to == DATE_MAX ? "\n" : " (before 2025-07-01)\n");
        }
        printf("%zu of %zu matches\n", n, total);
    }
    free(found);
    return total > 0 ? EXIT_OK : EXIT_FAILED;
}

int cmd_units(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "date", required_argument, NULL, 'd' },
        { "limit", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct units_opts o = { .limit = 20 };
    struct lt_error err;
    const struct units *u;
    const char *verb, *arg;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:n:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (strcmp(optarg, "any") == 0) {
                o.any_date = true;
            } else if (date_parse(optarg, &o.date, &err) != LT_OK) {
                return fail(&err);
            } else {
                o.has_date = true;
            }
            break;
        case 'n': {
            char *end;
            o.limit = strtol(optarg, &end, 10);
            if (*end != '\0' || o.limit < 1 || o.limit > 10000) {
                lt_error_set(&err, LT_EINVAL, "--limit must be a whole number from 1 to 10000");
                return fail(&err);
            }
            break;
        }
        case 'j':
            o.json = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    verb = argv[optind];
    arg = argv[optind + 1];
    u = units_builtin();

    if (strcmp(verb, "get") == 0) {
        return verb_get(u, arg, &o);
    } else if (strcmp(verb, "history") == 0) {
        return verb_history(u, arg, &o);
    } else if (strcmp(verb, "children") == 0) {
        return verb_children(u, arg, &o);
    } else if (strcmp(verb, "parents") == 0) {
        return verb_parents(u, arg, &o);
    } else if (strcmp(verb, "successors") == 0) {
        return verb_lineage(u, arg, &o, true);
    } else if (strcmp(verb, "predecessors") == 0) {
        return verb_lineage(u, arg, &o, false);
    } else if (strcmp(verb, "search") == 0) {
        if (arg[strspn(arg, " \t")] == '\0') {
            lt_error_set(&err, LT_EINVAL, "the search text is empty");
            lt_error_hint(&err, "give a name, e.g. lienthong units search \"ba dinh\"");
            return fail(&err);
        }
        return verb_search(u, arg, &o);
    }
    lt_error_set(&err, LT_EINVAL, "unknown verb \"%s\" for units", verb);
    lt_error_hint(&err, "run \"lienthong units --help\"");
    return fail(&err);
}
