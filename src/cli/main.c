/*
 * main.c - the lienthong command: dispatch to subcommands.
 *
 * Every subcommand lives in its own cli_*.c file and returns an exit status
 * (commands.h).  main() only picks the command and prints usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/banned.h"

#ifndef LT_VERSION
#define LT_VERSION "0.1.0"
#endif

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    { "init", cmd_init, "create a node's data directory for a unit" },
    { "units", cmd_units, "look up administrative units, their history and lineage" },
    { "address", cmd_address, "convert addresses written before the 2025 reform" },
    { "serve", cmd_serve, "run the HTTP API of a node" },
    { "gen", cmd_gen, "write realistic synthetic registry data" },
    { "log", cmd_log, "list and verify a node's event log" },
    { "enrol", cmd_enrol, "enrol a child node with its parent (one-time token)" },
    { "up", cmd_up, "run a local tree of nodes (centre, provinces, communes)" },
    { "import", cmd_import, "load CSV or NDJSON records into a registry" },
    { "export", cmd_export, "write a registry's records as CSV or NDJSON" },
    { "user", cmd_user, "add, list, disable accounts; change passwords; issue tokens" },
    { "audit", cmd_audit, "export the audit trail: who read which record, when and why" },
};

static void usage(FILE *out)
{
    fputs("usage: lienthong <command> [options]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\nRun \"lienthong <command> --help\" for a command's options.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("lienthong %s\n", LT_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "lienthong: error: unknown command \"%s\"\n", argv[1]);
    fputs("  hint: run \"lienthong --help\" for the list of commands\n", stderr);
    return EXIT_USAGE;
}
