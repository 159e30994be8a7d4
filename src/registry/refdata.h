/*
 * refdata.h - the reference code lists a record is checked against:
 * ethnic groups (GSO codes "01".."54"), nationalities (ISO 3166-1 alpha-2)
 * and land-use purposes (the codes of land statistics under the 2024 land
 * law).
 *
 * The lists are compiled into the binary (data/reference/) and parsed on
 * first use; after that they are read-only and any thread may query them.
 */
#ifndef LT_REGISTRY_REFDATA_H
#define LT_REGISTRY_REFDATA_H

#include <stdbool.h>
#include <stddef.h>

/* True if code is one of the 54 ethnic group codes. */
bool refdata_ethnicity_valid(const char *code);

/* The Vietnamese name of an ethnic group ("Kinh"), or NULL. */
const char *refdata_ethnicity_name(const char *code);

/* True if code is an assigned ISO 3166-1 alpha-2 code ("VN"), upper case. */
bool refdata_nationality_valid(const char *code);

/* True if code is a land-use purpose of data/reference/land-use-purposes.csv. */
bool refdata_land_use_valid(const char *code);

/* The Vietnamese name of a land-use purpose, or NULL. */
const char *refdata_land_use_name(const char *code);

/* How many entries each list has (for tests and reports). */
size_t refdata_ethnicity_count(void);
size_t refdata_nationality_count(void);
size_t refdata_land_use_count(void);

#endif
