/*
 * schema.c - the SQL of the registry projections.
 *
 * Design note.  One table per kind, one row per record: its key, the
 * columns listing and search need, the record's version and the canonical
 * record itself (JSON text), so a get is one primary-key read and a list is
 * one index range.  Every table has unit (the commune) and province (the
 * commune's province when the record was written), each indexed with the
 * key so that "records of a commune or province, in key order, after K" is
 * an index scan.  People carry the unit of their permanent residence and a
 * folded name ("nguyen van an") indexed with the birth year for search;
 * benefits carry their person's unit (indexed by person, to follow moves).
 * Every index costs each write of an import, so there is none that no
 * query uses yet: members of a household, residences or businesses of a
 * person are a later migration step when a query needs them.  The unit
 * indexes of people and benefits are partial (unit IS NOT NULL): a person
 * has no unit until a permanent residence is written, usually later in an
 * import, and an index entry for every NULL cost more than the whole rest
 * of the row (a million people: 13.7 s with them, 5.2 s without, in SQLite
 * alone); a list by unit never reads those rows anyway.  Tables are
 * projections: they can be rebuilt from the event log (registry_rebuild)
 * and are never written without an event.
 */
#include "registry/schema.h"

const char registry_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS reg_people ("
    " key TEXT PRIMARY KEY,"
    " name_fold TEXT NOT NULL,"
    " birth_year INTEGER NOT NULL,"
    " birth_date INTEGER NOT NULL,"
    " sex INTEGER NOT NULL,"
    " unit TEXT,"
    " province TEXT,"
    " version INTEGER NOT NULL,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reg_people_name ON reg_people (name_fold, birth_year, key);"
    "CREATE INDEX IF NOT EXISTS reg_people_unit ON reg_people (unit, key) WHERE unit IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS reg_people_province ON reg_people (province, key) "
    "WHERE province IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS reg_residences ("
    " key TEXT PRIMARY KEY,"
    " person_id TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " province TEXT NOT NULL,"
    " household_id TEXT,"
    " version INTEGER NOT NULL,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reg_residences_unit ON reg_residences (unit, key);"
    "CREATE INDEX IF NOT EXISTS reg_residences_province ON reg_residences (province, key);"
    "CREATE TABLE IF NOT EXISTS reg_households ("
    " key TEXT PRIMARY KEY,"
    " head_id TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " province TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reg_households_unit ON reg_households (unit, key);"
    "CREATE INDEX IF NOT EXISTS reg_households_province ON reg_households (province, key);"
    "CREATE TABLE IF NOT EXISTS reg_parcels ("
    " key TEXT PRIMARY KEY,"
    " unit TEXT NOT NULL,"
    " province TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reg_parcels_unit ON reg_parcels (unit, key);"
    "CREATE INDEX IF NOT EXISTS reg_parcels_province ON reg_parcels (province, key);"
    "CREATE TABLE IF NOT EXISTS reg_benefits ("
    " key TEXT PRIMARY KEY,"
    " person_id TEXT NOT NULL,"
    " scheme TEXT NOT NULL,"
    " unit TEXT,"
    " province TEXT,"
    " version INTEGER NOT NULL,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reg_benefits_unit ON reg_benefits (unit, key) "
    "WHERE unit IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS reg_benefits_province ON reg_benefits (province, key) "
    "WHERE province IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS reg_benefits_person ON reg_benefits (person_id);"
    "CREATE TABLE IF NOT EXISTS reg_businesses ("
    " key TEXT PRIMARY KEY,"
    " representative_id TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " province TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reg_businesses_unit ON reg_businesses (unit, key);"
    "CREATE INDEX IF NOT EXISTS reg_businesses_province ON reg_businesses (province, key);";
