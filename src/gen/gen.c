/*
 * gen.c - the synthetic data generator.
 *
 * Households are generated one at a time: a head whose age follows the
 * adult part of the population pyramid, often a spouse, children whose ages
 * follow from the parents', sometimes a grandparent.  Everyone gets a
 * personal ID whose digits agree with their sex, century and year of birth
 * (unique by construction: the last six digits count within each prefix),
 * a permanent residence in the household's commune, and, by the national
 * shares, a health insurance card; the very old a monthly allowance.  Each
 * household has its home parcel, rural ones often a farm parcel; some run a
 * household business.
 *
 * Shares below are approximate national figures (population census 2019,
 * health insurance coverage reports), rounded: good enough for realistic
 * demos and benchmarks, not statistics.
 */
#include "gen/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/strmap.h"
#include "core/banned.h"

extern const char lt_data_surnames[];
extern const size_t lt_data_surnames_len;
extern const char lt_data_name_parts[];
extern const size_t lt_data_name_parts_len;
extern const char lt_data_given_male[];
extern const size_t lt_data_given_male_len;
extern const char lt_data_given_female[];
extern const size_t lt_data_given_female_len;
extern const char lt_data_minority_surnames[];
extern const size_t lt_data_minority_surnames_len;

/* A deterministic generator (splitmix64): small, fast, good enough here. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return n ? (uint32_t)(rng_next(r) % n) : 0;
}

/* Uniform in [lo, hi]. */
static long rng_range(struct rng *r, long lo, long hi)
{
    return lo + (long)rng_below(r, (uint32_t)(hi - lo + 1));
}

static bool rng_chance(struct rng *r, double p)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p;
}

/* A list of strings with cumulative weights, for weighted draws. */
struct pick {
    char **items;
    double *cum;
    size_t n, alloc;
};

static void pick_add(struct pick *p, const char *item, size_t len, double weight)
{
    if (p->n == p->alloc) {
        p->alloc = p->alloc ? p->alloc * 2 : 64;
        p->items = xrealloc(p->items, sizeof(char *) * p->alloc);
        p->cum = xrealloc(p->cum, sizeof(double) * p->alloc);
    }
    p->items[p->n] = xstrndup(item, len);
    p->cum[p->n] = (p->n ? p->cum[p->n - 1] : 0) + weight;
    p->n++;
}

static const char *pick_draw(const struct pick *p, struct rng *r)
{
    double x = (double)(rng_next(r) >> 11) * 0x1.0p-53 * p->cum[p->n - 1];
    size_t lo = 0, hi = p->n - 1;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->cum[mid] <= x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return p->items[lo];
}

static void pick_release(struct pick *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i]);
    }
    free(p->items);
    free(p->cum);
}

/* Split line into at most max comma-separated fields (no quoting in our data). */
static int fields_of(const char *line, size_t len, const char **f, size_t *fl, int max)
{
    int n = 0;
    size_t start = 0;

    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || line[i] == ',') {
            f[n] = line + start;
            fl[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

typedef void (*row_fn)(void *ctx, const char **f, const size_t *fl, int nf);

static void each_row(const char *data, size_t len, row_fn fn, void *ctx)
{
    const char *p = data, *end = data + len;
    bool header = true;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *f[8];
        size_t fl[8];

        if (!header && l > 0) {
            fn(ctx, f, fl, fields_of(p, l, f, fl, 8));
        }
        header = false;
        p += l + 1;
    }
}

struct names {
    struct pick surnames, middle_male, middle_female, given_male, given_female;
    struct pick minority[8]; /* surnames of the groups in ethnic_minorities */
};

/* Ethnic groups with their national shares, in percent, and the name their
 * surname list uses in data/names/ethnic-minority-surnames.csv. */
static const struct ethnic {
    const char *code;
    double share;
    const char *surname_group;
} ethnic_shares[] = {
    { "01", 85.3, NULL },  { "02", 1.9, "Tày" },   { "03", 1.9, "Thái" }, { "06", 1.5, "Mường" },
    { "08", 1.5, "Mông" }, { "05", 1.4, "Khmer" }, { "07", 1.1, "Nùng" }, { "09", 0.9, "Dao" },
    { "04", 0.8, NULL },   { "10", 0.5, NULL },    { "12", 0.4, NULL },   { "13", 0.3, NULL },
    { "17", 0.2, "Chăm" }, { "14", 0.2, NULL },    { "18", 0.2, NULL },
};
#define NETHNIC (sizeof(ethnic_shares) / sizeof(ethnic_shares[0]))

static void surname_row(void *ctx, const char **f, const size_t *fl, int nf)
{
    struct pick *p = ctx;
    const char *slash;
    double share;

    if (nf < 4) {
        return;
    }
    /* Ranks past 14 carry no share: give them an even part of the rest. */
    share = fl[3] ? strtod(f[3], NULL) : 0.45;
    slash = memchr(f[1], '/', fl[1]);
    if (slash != NULL) {
        /* "Huỳnh/Hoàng": the southern and northern spellings share it. */
        pick_add(p, f[1], (size_t)(slash - f[1]), share / 2);
        pick_add(p, slash + 1, fl[1] - (size_t)(slash - f[1]) - 1, share / 2);
    } else {
        pick_add(p, f[1], fl[1], share);
    }
}

static void part_row(void *ctx, const char **f, const size_t *fl, int nf)
{
    struct names *nm = ctx;

    if (nf < 4 || fl[0] != 6 || memcmp(f[0], "middle", 6) != 0) {
        return;
    }
    /* Thị is a women's middle name, Văn a men's; the rest go to both. */
    if (fl[1] == strlen("Thị") && memcmp(f[1], "Thị", fl[1]) == 0) {
        pick_add(&nm->middle_female, f[1], fl[1], 400);
    } else if (fl[1] == strlen("Văn") && memcmp(f[1], "Văn", fl[1]) == 0) {
        pick_add(&nm->middle_male, f[1], fl[1], 250);
    } else {
        double w = strtod(f[3], NULL);
        pick_add(&nm->middle_male, f[1], fl[1], w);
        pick_add(&nm->middle_female, f[1], fl[1], w);
    }
}

static void given_row(void *ctx, const char **f, const size_t *fl, int nf)
{
    if (nf >= 1 && fl[0] > 0) {
        pick_add(ctx, f[0], fl[0], 1);
    }
}

static void minority_row(void *ctx, const char **f, const size_t *fl, int nf)
{
    struct names *nm = ctx;

    if (nf < 2) {
        return;
    }
    for (size_t i = 0, k = 0; i < NETHNIC; i++) {
        const char *g = ethnic_shares[i].surname_group;
        if (g == NULL) {
            continue;
        }
        if (strlen(g) == fl[0] && memcmp(g, f[0], fl[0]) == 0) {
            pick_add(&nm->minority[k], f[1], fl[1], 1);
        }
        k++;
    }
}

static void names_load(struct names *nm)
{
    memset(nm, 0, sizeof(*nm));
    each_row(lt_data_surnames, lt_data_surnames_len, surname_row, &nm->surnames);
    each_row(lt_data_name_parts, lt_data_name_parts_len, part_row, nm);
    each_row(lt_data_given_male, lt_data_given_male_len, given_row, &nm->given_male);
    each_row(lt_data_given_female, lt_data_given_female_len, given_row, &nm->given_female);
    each_row(lt_data_minority_surnames, lt_data_minority_surnames_len, minority_row, nm);
}

static void names_release(struct names *nm)
{
    pick_release(&nm->surnames);
    pick_release(&nm->middle_male);
    pick_release(&nm->middle_female);
    pick_release(&nm->given_male);
    pick_release(&nm->given_female);
    for (size_t i = 0; i < 8; i++) {
        pick_release(&nm->minority[i]);
    }
}

/* Share of the population in each five-year age band, 0-4 up to 85+. */
static const double age_bands[18] = { 7.0, 7.9, 7.9, 7.0, 6.6, 7.3, 8.0, 8.1, 7.6,
                                      6.9, 6.1, 5.4, 4.6, 3.7, 2.5, 1.5, 1.0, 0.9 };

/* An age in years drawn from the pyramid between lo and hi (inclusive). */
static int draw_age(struct rng *r, int lo, int hi)
{
    double total = 0, x;

    for (int b = 0; b < 18; b++) {
        for (int a = b * 5; a < b * 5 + 5; a++) {
            if (a >= lo && a <= hi) {
                total += age_bands[b] / 5;
            }
        }
    }
    x = (double)(rng_next(r) >> 11) * 0x1.0p-53 * total;
    for (int a = lo; a <= hi; a++) {
        int b = a / 5 < 18 ? a / 5 : 17;
        x -= age_bands[b] / (b == 17 ? 15 : 5);
        if (x <= 0) {
            return a;
        }
    }
    return hi;
}

/* Household sizes 1..7 by share. */
static const double household_sizes[7] = { 12, 21, 21, 25, 12, 6, 3 };

static const char *const streets[] = {
    "Lê Lợi",        "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt",
    "Quang Trung",   "Hùng Vương",    "Nguyễn Huệ",  "Lê Duẩn",      "Phan Chu Trinh",
    "Điện Biên Phủ", "Võ Thị Sáu",    "Nguyễn Du",   "Bà Triệu",     "Trần Phú",
};

static const char *const banks[] = {
    "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam",
    "Ngân hàng TMCP Công thương Việt Nam",
    "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam",
    "Ngân hàng Chính sách xã hội",
};

/* Industry codes (VSIC 2018, four digits) common among small businesses. */
static const char *const industries[] = { "4711", "4722", "5610", "5630", "4520", "4933",
                                          "1071", "9631", "4773", "4663", "0118", "0322" };

static const char *const company_words[] = { "Thành Công", "Hưng Thịnh", "An Phát",
                                             "Phúc Lộc",   "Minh Long",  "Đại Nam",
                                             "Sao Việt",   "Hoàng Gia",  "Tân Tiến" };

struct person_gen {
    char id[13];
    int sex; /* 0 male, 1 female */
    int32_t birth;
    int age;
    const char *surname;
    const char *ethnicity;
    char full_name[96];
};

struct gen {
    const struct units *u;
    const struct gen_options *o;
    struct rng r;
    struct names nm;
    struct strmap id_counters; /* 6-digit prefix -> next sequence */
    uint32_t *counters;
    size_t ncounters, acounters;
    gen_emit_fn emit;
    void *arg;
    long households, businesses;
};

/* The digit of a personal ID that encodes sex and century of birth. */
static int century_sex_digit(int year, int sex)
{
    return ((year - 1900) / 100) * 2 + sex;
}

static void make_person_id(struct gen *g, const char *province3, int year, int sex, char out[13])
{
    char prefix[7];
    uint32_t e, seq;
    int digit = century_sex_digit(year, sex);

    /* Built by hand: every part has a known width, which snprintf cannot see. */
    memcpy(prefix, province3, 3);
    prefix[3] = (char)('0' + (digit % 10 + 10) % 10);
    prefix[4] = (char)('0' + year % 100 / 10);
    prefix[5] = (char)('0' + year % 10);
    prefix[6] = '\0';
    e = strmap_first(&g->id_counters, prefix, 6);
    if (e == STRMAP_END) {
        if (g->ncounters == g->acounters) {
            g->acounters = g->acounters ? g->acounters * 2 : 1024;
            g->counters = xrealloc(g->counters, sizeof(uint32_t) * g->acounters);
        }
        g->counters[g->ncounters] = rng_below(&g->r, 5000); /* not always 000000 */
        strmap_add(&g->id_counters, prefix, 6, (uint32_t)g->ncounters);
        e = strmap_first(&g->id_counters, prefix, 6);
        g->ncounters++;
    }
    seq = g->counters[strmap_value(&g->id_counters, e)]++;
    memcpy(out, prefix, 6);
    for (int i = 11; i >= 6; i--) {
        out[i] = (char)('0' + seq % 10);
        seq /= 10;
    }
    out[12] = '\0';
}

static json_t *date_json(int32_t d)
{
    char s[DATE_STR_MAX];

    date_format(d, s);
    return json_string(s);
}

static const char *draw_ethnicity(struct gen *g, size_t *index)
{
    double total = 0, x;

    for (size_t i = 0; i < NETHNIC; i++) {
        total += ethnic_shares[i].share;
    }
    x = (double)(rng_next(&g->r) >> 11) * 0x1.0p-53 * total;
    for (size_t i = 0; i < NETHNIC; i++) {
        x -= ethnic_shares[i].share;
        if (x <= 0) {
            *index = i;
            return ethnic_shares[i].code;
        }
    }
    *index = 0;
    return "01";
}

/* A surname for a household of this ethnic group. */
static const char *draw_surname(struct gen *g, size_t ethnic_index)
{
    size_t k = 0;

    if (ethnic_shares[ethnic_index].surname_group != NULL) {
        for (size_t i = 0; i < ethnic_index; i++) {
            if (ethnic_shares[i].surname_group != NULL) {
                k++;
            }
        }
        if (k < 8 && g->nm.minority[k].n > 0) {
            return pick_draw(&g->nm.minority[k], &g->r);
        }
    }
    return pick_draw(&g->nm.surnames, &g->r);
}

static enum lt_code emit_person(struct gen *g, struct person_gen *p, const char *father,
                                const char *mother, struct lt_error *err)
{
    struct buf name;
    const char *middle = NULL;
    json_t *rec;
    enum lt_code rc;

    buf_init(&name, 256);
    if (p->sex == 1 && rng_chance(&g->r, 0.55)) {
        middle = pick_draw(&g->nm.middle_female, &g->r);
    } else if (p->sex == 0 && rng_chance(&g->r, 0.5)) {
        middle = pick_draw(&g->nm.middle_male, &g->r);
    }
    buf_printf(&name, "%s%s%s %s", p->surname, middle ? " " : "", middle ? middle : "",
               pick_draw(p->sex ? &g->nm.given_female : &g->nm.given_male, &g->r));

    snprintf(p->full_name, sizeof(p->full_name), "%s", buf_str(&name));
    rec = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s}", "id", p->id, "full_name", buf_str(&name),
                    "birth_date", date_json(p->birth), "sex", p->sex ? "female" : "male",
                    "ethnicity", p->ethnicity, "nationality", "VN", "status", "alive");
    if (father != NULL) {
        json_object_set_new(rec, "father_id", json_string(father));
    }
    if (mother != NULL) {
        json_object_set_new(rec, "mother_id", json_string(mother));
    }
    rc = g->emit(REG_PERSON, rec, g->arg, err);
    json_decref(rec);
    buf_release(&name);
    return rc;
}

static void new_person(struct gen *g, struct person_gen *p, const char *province3, int age, int sex,
                       const char *surname, const char *ethnicity)
{
    int y, m, d;

    p->sex = sex;
    p->age = age;
    /* A birthday in the year ending today minus age years. */
    p->birth = g->o->today - (int32_t)age * 365 - (int32_t)age / 4 - (int32_t)rng_below(&g->r, 365);
    date_to_civil(p->birth, &y, &m, &d);
    p->surname = surname;
    p->ethnicity = ethnicity;
    make_person_id(g, province3, y, sex, p->id);
}

static enum lt_code emit_benefits(struct gen *g, const struct person_gen *p, const char *province2,
                                  struct lt_error *err)
{
    enum lt_code rc = LT_OK;
    json_t *rec;
    char card[16];
    const char *group;

    /* About nine in ten people hold a health insurance card; all children under six. */
    if (p->age < 6 || rng_chance(&g->r, 0.92)) {
        group = p->age < 6     ? "TE"
                : p->age >= 80 ? "BT"
                : p->age < 18  ? "HS"
                : p->age >= 60 ? "HT"
                               : "GD";
        snprintf(card, sizeof(card), "%s%d%.2s%010llu", group, p->age < 6 ? 1 : 4, province2,
                 (unsigned long long)(rng_next(&g->r) % 10000000000ull));
        rec = json_pack(
            "{s:s, s:s, s:s, s:s, s:o, s:s}", "person_id", p->id, "scheme", "health_insurance",
            "card_no", card, "category", group, "start_date",
            date_json(p->age < 6 ? p->birth : g->o->today - (int32_t)rng_below(&g->r, 330)),
            "status", "active");
        rc = g->emit(REG_BENEFIT, rec, g->arg, err);
        json_decref(rec);
        if (rc != LT_OK) {
            return rc;
        }
    }
    /* The very old without a pension receive the monthly social allowance;
     * 500,000 VND is the standard level we take for 2025 (unconfirmed). */
    if (p->age >= 80 && rng_chance(&g->r, 0.7)) {
        rec = json_pack("{s:s, s:s, s:s, s:I, s:o, s:s}", "person_id", p->id, "scheme",
                        "social_assistance", "category", "elderly_80", "monthly_amount_vnd",
                        (json_int_t)500000, "start_date",
                        date_json(p->birth + 80 * 365 + 20 + (int32_t)rng_below(&g->r, 60)),
                        "status", "active");
        rc = g->emit(REG_BENEFIT, rec, g->arg, err);
        json_decref(rec);
    } else if (p->age >= 22 && p->age < 60 && rng_chance(&g->r, 0.35)) {
        snprintf(card, sizeof(card), "%.2s%08llu", province2,
                 (unsigned long long)(rng_next(&g->r) % 100000000ull));
        rec = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "person_id", p->id, "scheme",
                        "social_insurance", "card_no", card, "category", "compulsory", "start_date",
                        date_json(p->birth + 22 * 365 + (int32_t)rng_below(&g->r, 3000)), "status",
                        "active");
        rc = g->emit(REG_BENEFIT, rec, g->arg, err);
        json_decref(rec);
    }
    return rc;
}

/* The enterprise code check digit, or -1 when no digit fits (such codes
 * are not issued). */
static int enterprise_check(const char nine[9])
{
    static const int w[9] = { 31, 29, 23, 19, 17, 13, 7, 5, 3 };
    int sum = 0, c;

    for (int i = 0; i < 9; i++) {
        sum += (nine[i] - '0') * w[i];
    }
    c = 10 - sum % 11;
    return c == 10 || c == 11 ? -1 : c;
}

static enum lt_code emit_business(struct gen *g, const struct unit *commune,
                                  const struct person_gen *owner, const char *address,
                                  struct lt_error *err)
{
    char code[11];
    bool household = rng_chance(&g->r, 0.85);
    const char *form;
    struct buf name;
    json_t *rec, *codes;
    enum lt_code rc;
    int check;

    do {
        snprintf(code, sizeof(code), "%.2s%07u", unit_province(g->u, commune)->code,
                 1 + rng_below(&g->r, 9999998));
        check = enterprise_check(code);
    } while (check < 0);
    code[9] = (char)('0' + check);
    code[10] = '\0';

    buf_init(&name, 256);
    if (household) {
        form = "household_business";
        buf_printf(&name, "Hộ kinh doanh %s", owner->full_name);
    } else {
        static const char *const forms[] = { "llc_single_member", "llc_multi_member", "joint_stock",
                                             "sole_proprietorship" };
        form = forms[rng_below(&g->r, 4)];
        buf_printf(&name, "%s %s",
                   strcmp(form, "joint_stock") == 0           ? "Công ty Cổ phần"
                   : strcmp(form, "sole_proprietorship") == 0 ? "Doanh nghiệp tư nhân"
                                                              : "Công ty TNHH",
                   company_words[rng_below(&g->r, sizeof(company_words) / sizeof(char *))]);
    }
    codes = json_array();
    json_array_append_new(codes, json_string(industries[rng_below(&g->r, 12)]));
    if (!household && rng_chance(&g->r, 0.5)) {
        const char *second = industries[rng_below(&g->r, 12)];
        if (strcmp(second, json_string_value(json_array_get(codes, 0))) != 0) {
            json_array_append_new(codes, json_string(second));
        }
    }
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:s}", "code", code, "name",
                    buf_str(&name), "legal_form", form, "unit", commune->code, "address_line",
                    address, "representative_id", owner->id, "capital_vnd",
                    (json_int_t)(household ? rng_range(&g->r, 5, 200) * 10000000LL
                                           : rng_range(&g->r, 1, 500) * 100000000LL),
                    "industry_codes", codes, "status", "active");
    rc = g->emit(REG_BUSINESS, rec, g->arg, err);
    json_decref(rec);
    buf_release(&name);
    g->businesses++;
    return rc;
}

static enum lt_code emit_parcels(struct gen *g, const struct unit *commune, uint32_t *next_parcel,
                                 const struct person_gen *head, const struct person_gen *spouse,
                                 struct lt_error *err)
{
    bool urban = commune->type == UNIT_TYPE_WARD;
    int nparcels = urban ? 1 : rng_chance(&g->r, 0.6) ? 2 : 1;
    enum lt_code rc = LT_OK;

    for (int k = 0; k < nparcels && rc == LT_OK; k++) {
        static const char *const farm[] = { "LUC", "HNK", "CLN" };
        const char *purpose = k == 0 ? (urban ? "ODT" : "ONT") : farm[rng_below(&g->r, 3)];
        long area = k == 0 ? (urban ? rng_range(&g->r, 40, 300) : rng_range(&g->r, 150, 800))
                           : rng_range(&g->r, 500, 5000);
        uint32_t seq = (*next_parcel)++;
        int sheet = (int)(1 + seq / 400);
        int parcel_no = (int)(1 + seq % 400);
        char id[32], cert[16];
        json_t *holders = json_array();
        json_t *encumbrances = json_array();
        json_t *rec;

        snprintf(id, sizeof(id), "%s-%d-%d", commune->code, sheet, parcel_no);
        snprintf(cert, sizeof(cert), "C%c %06u", 'A' + (int)rng_below(&g->r, 26),
                 rng_below(&g->r, 1000000));
        if (spouse != NULL && rng_chance(&g->r, 0.6)) {
            json_array_append_new(holders, json_pack("{s:s, s:s, s:f}", "kind", "person", "id",
                                                     head->id, "share", 0.5));
            json_array_append_new(holders, json_pack("{s:s, s:s, s:f}", "kind", "person", "id",
                                                     spouse->id, "share", 0.5));
        } else {
            json_array_append_new(holders, json_pack("{s:s, s:s, s:f}", "kind", "person", "id",
                                                     head->id, "share", 1.0));
        }
        if (k == 0 && rng_chance(&g->r, 0.08)) {
            json_array_append_new(
                encumbrances,
                json_pack("{s:s, s:s, s:I, s:o}", "kind", "mortgage", "holder",
                          banks[rng_below(&g->r, 4)], "amount_vnd",
                          (json_int_t)rng_range(&g->r, 1, 20) * 100000000LL, "registered_on",
                          date_json(g->o->today - 30 - (int32_t)rng_below(&g->r, 2000))));
        }
        rec = json_pack("{s:s, s:s, s:i, s:i, s:I, s:s, s:o, s:s, s:o}", "id", id, "unit",
                        commune->code, "map_sheet", sheet, "parcel_no", parcel_no, "area_m2",
                        (json_int_t)area, "purpose", purpose, "holders", holders, "certificate_no",
                        cert, "encumbrances", encumbrances);
        rc = g->emit(REG_PARCEL, rec, g->arg, err);
        json_decref(rec);
    }
    return rc;
}

/* The 3-digit province part of personal IDs registered in this commune:
 * the old province the commune's land came from. */
static void id_province(const struct units *u, const struct unit *commune, char out[4])
{
    struct unit_link l[1];
    const struct unit *p = unit_province(u, commune);

    if (units_predecessors(u, commune, l, 1) >= 1) {
        p = unit_province(u, l[0].unit);
    }
    snprintf(out, 4, "0%.2s", p->code);
}

struct member {
    struct person_gen p;
    const char *relation;
};

/* One household of the commune: its people, the household, their residence,
 * parcels, benefits and maybe a business.  Returns people made in *made. */
static enum lt_code household(struct gen *g, const struct unit *commune, uint32_t *next_parcel,
                              long *made, struct lt_error *err)
{
    struct member m[8];
    int size = 0, want;
    double x = (double)(rng_next(&g->r) >> 11) * 0x1.0p-53 * 100;
    char prov3[4], hid[48], address[160], village[40];
    size_t eth_index;
    const char *eth = draw_ethnicity(g, &eth_index);
    const char *surname = draw_surname(g, eth_index);
    const char *father = NULL, *mother = NULL;
    enum lt_code rc;
    json_t *rec;

    for (want = 1; want < 7 && x > household_sizes[want - 1]; want++) {
        x -= household_sizes[want - 1];
    }
    id_province(g->u, commune, prov3);

    /* The head, and a spouse of the other sex, about the same age. */
    int head_age = want == 1 ? draw_age(&g->r, 20, 95) : draw_age(&g->r, 24, 85);
    int head_sex = rng_chance(&g->r, 0.72) ? 0 : 1;
    new_person(g, &m[size].p, prov3, head_age, head_sex, surname, eth);
    m[size++].relation = "head";
    if (want >= 2 && rng_chance(&g->r, 0.85)) {
        int age = head_age + (int)rng_range(&g->r, -6, 4);
        new_person(g, &m[size].p, prov3, age < 19 ? 19 : age, 1 - head_sex,
                   pick_draw(&g->nm.surnames, &g->r), eth);
        m[size++].relation = "spouse";
    }
    /* Children follow from the parents' ages; a grandparent sometimes. */
    while (size < want) {
        if (size >= 3 && head_age < 60 && rng_chance(&g->r, 0.3)) {
            int age = head_age + (int)rng_range(&g->r, 22, 32);
            new_person(g, &m[size].p, prov3, age > 100 ? 100 : age, (int)rng_below(&g->r, 2),
                       surname, eth);
            m[size++].relation = "parent";
            continue;
        }
        int lo = head_age - 42 < 0 ? 0 : head_age - 42;
        int hi = head_age - 18;
        if (hi < 0) {
            break;
        }
        new_person(g, &m[size].p, prov3, draw_age(&g->r, lo, hi), (int)rng_below(&g->r, 2), surname,
                   eth);
        m[size++].relation = "child";
    }

    for (int i = 0; i < size; i++) {
        if (strcmp(m[i].relation, "head") == 0 || strcmp(m[i].relation, "spouse") == 0) {
            if (m[i].p.sex == 0) {
                father = m[i].p.id;
            } else {
                mother = m[i].p.id;
            }
        }
    }
    for (int i = 0; i < size; i++) {
        bool child = strcmp(m[i].relation, "child") == 0;
        rc = emit_person(g, &m[i].p, child ? father : NULL, child && mother != NULL ? mother : NULL,
                         err);
        if (rc != LT_OK) {
            return rc;
        }
    }

    g->households++;
    snprintf(hid, sizeof(hid), "HK%s%07ld", commune->code, g->households);
    if (commune->type == UNIT_TYPE_WARD) {
        snprintf(village, sizeof(village), "Tổ dân phố %u", 1 + rng_below(&g->r, 30));
        snprintf(address, sizeof(address), "Số %u %s", 1 + rng_below(&g->r, 300),
                 streets[rng_below(&g->r, sizeof(streets) / sizeof(streets[0]))]);
    } else {
        snprintf(village, sizeof(village), "Thôn %u", 1 + rng_below(&g->r, 20));
        snprintf(address, sizeof(address), "%s", village);
    }
    rec = json_pack("{s:s, s:s, s:s, s:s}", "id", hid, "head_id", m[0].p.id, "unit", commune->code,
                    "address_line", address);
    rc = g->emit(REG_HOUSEHOLD, rec, g->arg, err);
    json_decref(rec);
    if (rc != LT_OK) {
        return rc;
    }

    for (int i = 0; i < size; i++) {
        /* Living here since birth, or since an adult moved in. */
        int32_t from =
            m[i].p.age < 18 ? m[i].p.birth : g->o->today - (int32_t)rng_below(&g->r, 365 * 15) - 1;
        if (from < m[i].p.birth) {
            from = m[i].p.birth;
        }
        rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "person_id", m[i].p.id, "kind",
                        "permanent", "unit", commune->code, "village", village, "address_line",
                        address, "household_id", hid, "relation_to_head", m[i].relation,
                        "from_date", date_json(from));
        rc = g->emit(REG_RESIDENCE, rec, g->arg, err);
        json_decref(rec);
        if (rc == LT_OK) {
            rc = emit_benefits(g, &m[i].p, unit_province(g->u, commune)->code, err);
        }
        if (rc != LT_OK) {
            return rc;
        }
    }

    rc = emit_parcels(g, commune, next_parcel, &m[0].p,
                      size > 1 && strcmp(m[1].relation, "spouse") == 0 ? &m[1].p : NULL, err);
    if (rc == LT_OK && m[0].p.age < 70 && rng_chance(&g->r, 0.18)) {
        rc = emit_business(g, commune, &m[0].p, address, err);
    }
    *made += size;
    return rc;
}

static enum lt_code gen_commune(struct gen *g, const struct unit *commune, long people,
                                struct lt_error *err)
{
    long made = 0;
    uint32_t next_parcel = 0;
    enum lt_code rc = LT_OK;

    while (made < people && rc == LT_OK) {
        rc = household(g, commune, &next_parcel, &made, err);
    }
    return rc;
}

enum lt_code gen_run(const struct units *u, const struct gen_options *o, gen_emit_fn emit,
                     void *arg, struct lt_error *err)
{
    struct gen g;
    enum lt_code rc = LT_OK;

    if (o->people < 1 || o->people > 10000000) {
        lt_error_set(err, LT_EINVAL, "people per commune must be from 1 to 10,000,000, not %ld",
                     o->people);
        lt_error_field(err, "people");
        return LT_EINVAL;
    }
    for (size_t i = 0; i < o->nunits; i++) {
        const struct unit *unit = units_find(u, o->units[i], o->today);
        if (unit == NULL || (unit->level != UNIT_COMMUNE && unit->level != UNIT_PROVINCE)) {
            lt_error_set(err, LT_EINVAL, "\"%s\" is not a commune or province in force today",
                         o->units[i]);
            lt_error_hint(err, "find today's code with: lienthong units search \"<name>\"");
            lt_error_field(err, "units");
            return LT_EINVAL;
        }
    }

    memset(&g, 0, sizeof(g));
    g.u = u;
    g.o = o;
    g.r.s = o->seed;
    g.emit = emit;
    g.arg = arg;
    names_load(&g.nm);
    strmap_init(&g.id_counters);

    for (size_t i = 0; i < o->nunits && rc == LT_OK; i++) {
        const struct unit *unit = units_find(u, o->units[i], o->today);

        if (unit->level == UNIT_COMMUNE) {
            rc = gen_commune(&g, unit, o->people, err);
            continue;
        }
        /* A province: every one of its communes. */
        const struct unit **kids = xmalloc(sizeof(*kids) * 4096);
        size_t n = units_children(u, unit, o->today, kids, 4096);
        for (size_t k = 0; k < n && k < 4096 && rc == LT_OK; k++) {
            rc = gen_commune(&g, kids[k], o->people, err);
        }
        free(kids);
    }

    strmap_release(&g.id_counters);
    free(g.counters);
    names_release(&g.nm);
    return rc;
}
