/*
 * refdata.c - the reference code lists, parsed once from embedded CSV.
 *
 * Each list is a small sorted array of (code, name) pairs searched with
 * bsearch; names point into one private copy of the CSV text.  A malformed
 * embedded file is a build defect and ends in BUG().
 */
#include "registry/refdata.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/banned.h"

extern const char lt_data_ethnic_groups[];
extern const size_t lt_data_ethnic_groups_len;
extern const char lt_data_land_use_purposes[];
extern const size_t lt_data_land_use_purposes_len;

struct code_entry {
    const char *code;
    const char *name;
};

struct code_list {
    struct code_entry *v;
    size_t n;
    char *text; /* the CSV copy the entries point into */
};

static struct code_list ethnic_groups;
static struct code_list land_uses;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

/*
 * ISO 3166-1 alpha-2, the officially assigned codes, in order.  A static
 * table: the list changes rarely, and a stale entry only lets through a
 * code that was once valid.
 */
static const char iso3166[] = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
                              "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
                              "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
                              "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
                              "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
                              "HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
                              "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
                              "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY "
                              "MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM "
                              "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
                              "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
                              "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
                              "VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct code_entry *)a)->code, ((const struct code_entry *)b)->code);
}

/* Parse "code,name,..." lines (header skipped) into l; the first two fields count. */
static void load_list(struct code_list *l, const char *data, size_t len, const char *file)
{
    char *save = NULL;
    char *line;
    size_t alloc = 64;
    int lineno = 0;

    l->text = xstrndup(data, len);
    l->v = xmalloc(sizeof(*l->v) * alloc);
    for (line = strtok_r(l->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *comma = strchr(line, ',');
        char *end;

        lineno++;
        if (lineno == 1 || line[0] == '\0') {
            continue;
        }
        if (comma == NULL) {
            BUG("%s:%d: no comma", file, lineno);
        }
        *comma = '\0';
        end = strchr(comma + 1, ',');
        if (end != NULL) {
            *end = '\0';
        }
        if (l->n == alloc) {
            alloc *= 2;
            l->v = xrealloc(l->v, sizeof(*l->v) * alloc);
        }
        if (end == NULL && comma[1] != '\0' && comma[strlen(comma + 1)] == '\r') {
            comma[strlen(comma + 1)] = '\0';
        }
        l->v[l->n].code = line;
        l->v[l->n].name = comma + 1;
        l->n++;
    }
    qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i - 1].code, l->v[i].code) == 0) {
            BUG("%s: code \"%s\" twice", file, l->v[i].code);
        }
    }
}

static void load(void)
{
    load_list(&ethnic_groups, lt_data_ethnic_groups, lt_data_ethnic_groups_len,
              "ethnic-groups.csv");
    load_list(&land_uses, lt_data_land_use_purposes, lt_data_land_use_purposes_len,
              "land-use-purposes.csv");
    if (ethnic_groups.n != 54) {
        BUG("ethnic-groups.csv: %zu groups, expected 54", ethnic_groups.n);
    }
}

static const struct code_entry *find(const struct code_list *l, const char *code)
{
    struct code_entry key = { code, NULL };

    pthread_once(&loaded, load);
    return bsearch(&key, l->v, l->n, sizeof(*l->v), entry_cmp);
}

bool refdata_ethnicity_valid(const char *code)
{
    return find(&ethnic_groups, code) != NULL;
}

const char *refdata_ethnicity_name(const char *code)
{
    const struct code_entry *e = find(&ethnic_groups, code);

    return e ? e->name : NULL;
}

bool refdata_nationality_valid(const char *code)
{
    if (strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') {
        return false;
    }
    for (size_t i = 0; i + 1 < sizeof(iso3166); i += 3) {
        if (iso3166[i] == code[0] && iso3166[i + 1] == code[1]) {
            return true;
        }
    }
    return false;
}

bool refdata_land_use_valid(const char *code)
{
    /* XXX: codes marked "unconfirmed" in the source column are accepted like the others */
    return find(&land_uses, code) != NULL;
}

const char *refdata_land_use_name(const char *code)
{
    const struct code_entry *e = find(&land_uses, code);

    return e ? e->name : NULL;
}

size_t refdata_ethnicity_count(void)
{
    pthread_once(&loaded, load);
    return ethnic_groups.n;
}

size_t refdata_nationality_count(void)
{
    return (sizeof(iso3166) - 1 + 1) / 3;
}

size_t refdata_land_use_count(void)
{
    pthread_once(&loaded, load);
    return land_uses.n;
}
