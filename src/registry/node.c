/*
 * node.c - an open node: its store, its event log and the units register.
 *
 * The node owns the store and the event log; the units register is the
 * process-wide built-in one.  Every registry call goes through a node.
 */
#include <stdlib.h>

#include "core/buf.h"
#include "registry/kinds.h"
#include "core/banned.h"

enum lt_code node_open(const char *dir, const struct store_options *o, struct node **out,
                       struct lt_error *err)
{
    struct node *n = xcalloc(1, sizeof(*n));
    enum lt_code rc;

    *out = NULL;
    rc = store_open(dir, o, &n->store, err);
    if (rc == LT_OK) {
        rc = evlog_open(n->store, &n->log, err);
    }
    if (rc != LT_OK) {
        node_close(n);
        return rc;
    }
    n->u = units_builtin();
    *out = n;
    return LT_OK;
}

void node_close(struct node *n)
{
    if (n == NULL) {
        return;
    }
    evlog_free(n->log);
    store_close(n->store);
    free(n);
}

struct store *node_store(struct node *n)
{
    return n->store;
}

struct evlog *node_evlog(struct node *n)
{
    return n->log;
}

const struct units *node_units(struct node *n)
{
    return n->u;
}
