/*
 * cli_user.c - "lienthong user": the accounts of a node.
 *
 *   lienthong user add --data DIR --account NAME --role ROLE --unit CODE
 *                      [--person ID] [--password-file FILE]
 *   lienthong user list --data DIR [--unit CODE]
 *   lienthong user disable --data DIR --account NAME
 *   lienthong user passwd --data DIR --account NAME [--password-file FILE]
 *   lienthong user token --data DIR --account NAME [--hours H]
 *
 * Whoever can run this on the node's data directory owns the node, so the
 * command line may make any account (the first admin among them) without
 * logging in.  A password is read from --password-file (its first line),
 * else from standard input: typed twice without echo on a terminal, or one
 * line from a pipe.  "token" opens a session without a password and prints
 * its bearer token, for scripts and benchmarks run by the node's owner.
 * Every form may run while the node serves.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "auth/password.h"
#include "cli/commands.h"
#include "core/error.h"
#include "store/store.h"
#include "units/units.h"
#include "core/banned.h"

#define LINE_MAX_BYTES (PASSWORD_MAX_BYTES + 2)

static const char usage_text[] =
    "usage: lienthong user add --data DIR --account NAME --role ROLE --unit CODE\n"
    "                          [--person ID] [--password-file FILE]\n"
    "       lienthong user list --data DIR [--unit CODE]\n"
    "       lienthong user disable --data DIR --account NAME\n"
    "       lienthong user passwd --data DIR --account NAME [--password-file FILE]\n"
    "       lienthong user token --data DIR --account NAME [--hours H]\n"
    "\n"
    "Manage the accounts of the node in DIR.  Roles: citizen (needs --person,\n"
    "the citizen's personal ID), clerk, officer, auditor, admin, node.  The\n"
    "unit is the account's jurisdiction: a commune or province code, or VN.\n"
    "The password comes from --password-file (first line) or standard input\n"
    "(asked twice, without echo, on a terminal).  \"token\" prints a bearer\n"
    "token of a new session for the account, valid H hours (default 8).\n";

struct user_args {
    const char *data;
    const char *account;
    const char *role;
    const char *unit;
    const char *person;
    const char *password_file;
    long hours;
};

static int fail(const struct lt_error *err)
{
    lt_error_print(err, stderr);
    return EXIT_FAILED;
}

static int usage_fail(const char *why)
{
    fprintf(stderr, "lienthong: error: %s\n", why);
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

/* One line of f into out without its end of line; false at EOF or if too long. */
static bool read_line(FILE *f, char out[LINE_MAX_BYTES])
{
    size_t n;

    if (fgets(out, LINE_MAX_BYTES, f) == NULL) {
        return false;
    }
    n = strlen(out);
    if (n > 0 && out[n - 1] == '\n') {
        out[--n] = '\0';
    } else if (!feof(f)) {
        return false;
    }
    if (n > 0 && out[n - 1] == '\r') {
        out[--n] = '\0';
    }
    return true;
}

static bool prompt(const char *what, char out[LINE_MAX_BYTES])
{
    struct termios old, quiet;
    bool ok;

    fprintf(stderr, "%s: ", what);
    fflush(stderr);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    ok = read_line(stdin, out);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fputc('\n', stderr);
    return ok;
}

static enum lt_code read_password(const char *file, char out[LINE_MAX_BYTES], struct lt_error *err)
{
    char again[LINE_MAX_BYTES];

    if (file != NULL) {
        FILE *f = fopen(file, "r");
        bool ok = f != NULL && read_line(f, out);

        if (f != NULL) {
            fclose(f);
        }
        if (!ok) {
            return lt_error_set(err, LT_EIO, "could not read a password from \"%s\"", file);
        }
        return LT_OK;
    }
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, out)) {
            return lt_error_set(err, LT_EIO, "could not read a password from standard input");
        }
        return LT_OK;
    }
    if (!prompt("password", out) || !prompt("again", again)) {
        return lt_error_set(err, LT_EIO, "no password given");
    }
    if (strcmp(out, again) != 0) {
        sodium_memzero(again, sizeof(again));
        return lt_error_set(err, LT_EINVAL, "the two passwords differ");
    }
    sodium_memzero(again, sizeof(again));
    return LT_OK;
}

static int parse(int argc, char **argv, struct user_args *a)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "account", required_argument, NULL, 'a' },
        { "role", required_argument, NULL, 'r' },
        { "unit", required_argument, NULL, 'u' },
        { "person", required_argument, NULL, 'p' },
        { "password-file", required_argument, NULL, 'f' },
        { "hours", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 2;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->data = optarg;
            break;
        case 'a':
            a->account = optarg;
            break;
        case 'r':
            a->role = optarg;
            break;
        case 'u':
            a->unit = optarg;
            break;
        case 'p':
            a->person = optarg;
            break;
        case 'f':
            a->password_file = optarg;
            break;
        case 'H': {
            char *end;

            a->hours = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || a->hours < 1 || a->hours > 24 * 366) {
                return usage_fail("--hours must be a whole number from 1 to 8784");
            }
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        return usage_fail("unexpected argument");
    }
    if (a->data == NULL) {
        return usage_fail("--data DIR is required");
    }
    return -1;
}

static int do_add(struct auth *au, const struct user_args *a)
{
    struct auth_principal acct;
    char password[LINE_MAX_BYTES];
    struct lt_error err;
    enum lt_code rc;

    if (a->account == NULL || a->role == NULL || a->unit == NULL) {
        return usage_fail("user add needs --account, --role and --unit");
    }
    memset(&acct, 0, sizeof(acct));
    if (!auth_role_parse(a->role, &acct.role)) {
        return usage_fail("--role must be citizen, clerk, officer, auditor, admin or node");
    }
    snprintf(acct.account, sizeof(acct.account), "%s", a->account);
    snprintf(acct.unit, sizeof(acct.unit), "%s", a->unit);
    snprintf(acct.person_id, sizeof(acct.person_id), "%s", a->person != NULL ? a->person : "");
    if (strlen(a->account) >= sizeof(acct.account) || strlen(a->unit) >= sizeof(acct.unit) ||
        (a->person != NULL && strlen(a->person) >= sizeof(acct.person_id))) {
        return usage_fail("--account, --unit or --person is too long");
    }
    if (read_password(a->password_file, password, &err) != LT_OK) {
        return fail(&err);
    }
    rc = auth_account_add(au, NULL, &acct, password, &err);
    sodium_memzero(password, sizeof(password));
    if (rc != LT_OK) {
        return fail(&err);
    }
    printf("added account %s (%s, %s)\n", acct.account, a->role, acct.unit);
    return EXIT_OK;
}

static int do_list(struct auth *au, const struct user_args *a)
{
    struct lt_error err;
    json_t *list = NULL, *o;
    size_t i;

    if (auth_account_list(au, a->unit, &list, &err) != LT_OK) {
        return fail(&err);
    }
    printf("%-24s %-8s %-6s %-12s %s\n", "ACCOUNT", "ROLE", "UNIT", "PERSON", "STATE");
    json_array_foreach(list, i, o)
    {
        const char *person = json_string_value(json_object_get(o, "person_id"));
        const char *disabled = json_string_value(json_object_get(o, "disabled_at"));

        printf("%-24s %-8s %-6s %-12s %s%s\n", json_string_value(json_object_get(o, "account")),
               json_string_value(json_object_get(o, "role")),
               json_string_value(json_object_get(o, "unit")), person != NULL ? person : "-",
               disabled != NULL ? "disabled " : "active", disabled != NULL ? disabled : "");
    }
    json_decref(list);
    return EXIT_OK;
}

static int do_disable(struct auth *au, const struct user_args *a)
{
    struct lt_error err;

    if (a->account == NULL) {
        return usage_fail("user disable needs --account");
    }
    if (auth_account_disable(au, NULL, a->account, &err) != LT_OK) {
        return fail(&err);
    }
    printf("disabled account %s; its sessions are closed\n", a->account);
    return EXIT_OK;
}

static int do_passwd(struct auth *au, const struct user_args *a)
{
    char password[LINE_MAX_BYTES];
    struct lt_error err;
    enum lt_code rc;

    if (a->account == NULL) {
        return usage_fail("user passwd needs --account");
    }
    if (read_password(a->password_file, password, &err) != LT_OK) {
        return fail(&err);
    }
    rc = auth_account_passwd(au, a->account, password, &err);
    sodium_memzero(password, sizeof(password));
    if (rc != LT_OK) {
        return fail(&err);
    }
    printf("changed the password of %s; its sessions are closed\n", a->account);
    return EXIT_OK;
}

static int do_token(struct auth *au, const struct user_args *a)
{
    struct auth_session s;
    struct lt_error err;

    if (a->account == NULL) {
        return usage_fail("user token needs --account");
    }
    if (auth_session_open(au, a->account, "command line", (int64_t)a->hours * 3600 * 1000, &s,
                          &err) != LT_OK) {
        return fail(&err);
    }
    puts(s.token);
    return EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(struct auth *au, const struct user_args *a);
    } subs[] = {
        { "add", do_add },       { "list", do_list },   { "disable", do_disable },
        { "passwd", do_passwd }, { "token", do_token },
    };
    struct user_args a = { .hours = 8 };
    struct store_options so;
    struct store *st = NULL;
    struct auth *au;
    struct lt_error err;
    int status;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(argv[1], subs[i].name) != 0) {
            continue;
        }
        status = parse(argc, argv, &a);
        if (status >= 0) {
            return status;
        }
        store_options_default(&so);
        if (store_open(a.data, &so, &st, &err) != LT_OK) {
            return fail(&err);
        }
        au = auth_new(st, units_builtin(), NULL);
        status = subs[i].run(au, &a);
        auth_free(au);
        store_close(st);
        return status;
    }
    return usage_fail("unknown user command");
}
