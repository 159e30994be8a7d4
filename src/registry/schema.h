/*
 * schema.h - the projection tables of the registries, as one step of the
 * store's migrations (src/store/migrations.c).
 */
#ifndef LT_REGISTRY_SCHEMA_H
#define LT_REGISTRY_SCHEMA_H

/* Portable DDL creating the reg_* tables and their indexes. */
extern const char registry_schema_sql[];

#endif
