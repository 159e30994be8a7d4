/*
 * test_auth.c - passwords, the failure limiter, accounts and sessions.
 *
 * Sessions are checked for each way they end (logout, expiry, disabling,
 * a new password); refusals of account changes are checked to leave the
 * accounts as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"
#include "auth/password.h"
#include "auth/ratelimit.h"
#include "store/store.h"

#include "../sync/tree.h"

#define GOOD "correct-horse-battery-7"

static char root[64];
static struct tnode tn;
static struct auth *au;

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/lt-auth-XXXXXX");
    assert_non_null(mkdtemp(root));
    tnode_make(&tn, root, "centre", "VN");
    au = auth_new(node_store(tn.n), node_units(tn.n), NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    auth_free(au);
    tnode_close(&tn);
    tree_remove(root);
    return 0;
}

static void weak_passwords_say_what_is_missing(void **state)
{
    struct lt_error err;

    (void)state;
    assert_int_equal(password_check("an", "short1", &err), LT_EINVAL);
    assert_string_equal(err.field, "password");
    assert_non_null(strstr(err.detail, "at least 12 characters (it has 6)"));
    assert_int_equal(password_check("an", "onlylettersherefolks", &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "a digit or another sign"));
    assert_null(strstr(err.detail, "characters (it has"));
    assert_int_equal(password_check("an", "123456789012345", &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "a letter"));
    assert_int_equal(password_check("an", "aaaaaaaaaaaaaaaa", &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "more than one distinct character"));
    assert_int_equal(password_check("minh.nguyen", "Minh.Nguyen-2025!", &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "no copy of the account name"));
    assert_int_equal(password_check("an", "mật-khẩu-9", &err), LT_EINVAL);
    assert_int_equal(password_check("an", "\xff\xfe not utf-8 at all 1", &err), LT_EINVAL);
    assert_int_equal(password_check("an", GOOD, &err), LT_OK);
    assert_int_equal(password_check("an", "mật-khẩu-của-tôi", &err), LT_OK);
}

static void hashes_verify(void **state)
{
    char h[PASSWORD_HASH_MAX];
    struct lt_error err;

    (void)state;
    assert_int_equal(password_hash(GOOD, h, &err), LT_OK);
    assert_non_null(strstr(h, "$argon2id$"));
    assert_non_null(strstr(h, "m=32768,t=3"));
    assert_true(password_verify(h, GOOD));
    assert_false(password_verify(h, GOOD "x"));
    assert_false(password_verify(NULL, GOOD));
}

static void the_limiter_counts_in_a_window(void **state)
{
    struct ratelimit *rl = ratelimit_new(5, 1000);

    (void)state;
    for (int i = 0; i < 4; i++) {
        ratelimit_fail(rl, "account:a", 100 + i);
    }
    assert_int_equal(ratelimit_wait(rl, "account:a", 200), 0);
    ratelimit_fail(rl, "account:a", 300);
    /* Five failures, the oldest at 100: free again at 1100. */
    assert_int_equal(ratelimit_wait(rl, "account:a", 400), 700);
    assert_int_equal(ratelimit_wait(rl, "account:b", 400), 0);
    assert_int_equal(ratelimit_wait(rl, "account:a", 1100), 0);
    /* The window slides: at 1200 only 300 and 1200 are inside it. */
    ratelimit_fail(rl, "account:a", 1200);
    assert_int_equal(ratelimit_wait(rl, "account:a", 1200), 0);
    for (int i = 0; i < 3; i++) {
        ratelimit_fail(rl, "account:a", 1200);
    }
    assert_int_equal(ratelimit_wait(rl, "account:a", 1200), 300 + 1000 - 1200);
    ratelimit_clear(rl, "account:a");
    assert_int_equal(ratelimit_wait(rl, "account:a", 1200), 0);
    /* Many keys: the table stays bounded and still limits a fresh one. */
    for (int i = 0; i < 20000; i++) {
        char key[32];

        snprintf(key, sizeof(key), "client:%d", i);
        ratelimit_fail(rl, key, 2000);
    }
    for (int i = 0; i < 5; i++) {
        ratelimit_fail(rl, "client:attacker", 3000);
    }
    assert_true(ratelimit_wait(rl, "client:attacker", 3000) > 0);
    ratelimit_free(rl);
}

static void add(const char *name, enum auth_role role, const char *unit, const char *person)
{
    struct auth_principal a;
    struct lt_error err;

    memset(&a, 0, sizeof(a));
    snprintf(a.account, sizeof(a.account), "%s", name);
    a.role = role;
    snprintf(a.unit, sizeof(a.unit), "%s", unit);
    snprintf(a.person_id, sizeof(a.person_id), "%s", person);
    if (auth_account_add(au, NULL, &a, GOOD, &err) != LT_OK) {
        fail_msg("add %s: %s", name, err.message);
    }
}

static size_t count_accounts(void)
{
    json_t *list = NULL;
    struct lt_error err;
    size_t n;

    assert_int_equal(auth_account_list(au, NULL, &list, &err), LT_OK);
    n = json_array_size(list);
    json_decref(list);
    return n;
}

static void bad_accounts_are_refused_and_nothing_changes(void **state)
{
    static const struct {
        const char *name;
        int role;
        const char *unit, *person, *password;
        enum lt_code want;
        const char *field;
    } cases[] = {
        { "Upper", AUTH_CLERK, "00004", "", GOOD, LT_EINVAL, "account" },
        { "ab", AUTH_CLERK, "00004", "", GOOD, LT_EINVAL, "account" },
        { "1st", AUTH_CLERK, "00004", "", GOOD, LT_EINVAL, "account" },
        { "clerk.x", AUTH_CLERK, "99999", "", GOOD, LT_EINVAL, "unit" },
        { "citizen.x", AUTH_CITIZEN, "00004", "", GOOD, LT_EINVAL, "person_id" },
        { "citizen.y", AUTH_CITIZEN, "00004", "12345", GOOD, LT_EINVAL, "person_id" },
        { "clerk.y", AUTH_CLERK, "00004", "001090000001", GOOD, LT_EINVAL, "person_id" },
        { "clerk.z", AUTH_CLERK, "00004", "", "weak", LT_EINVAL, "password" },
        { "dup", AUTH_CLERK, "00004", "", GOOD, LT_ECONFLICT, "account" },
    };
    struct lt_error err;
    size_t before;

    (void)state;
    add("dup", AUTH_CLERK, "00004", "");
    before = count_accounts();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct auth_principal a;

        memset(&a, 0, sizeof(a));
        snprintf(a.account, sizeof(a.account), "%s", cases[i].name);
        a.role = (enum auth_role)cases[i].role;
        snprintf(a.unit, sizeof(a.unit), "%s", cases[i].unit);
        snprintf(a.person_id, sizeof(a.person_id), "%s", cases[i].person);
        lt_error_clear(&err);
        assert_int_equal(auth_account_add(au, NULL, &a, cases[i].password, &err), cases[i].want);
        assert_string_equal(err.field, cases[i].field);
        assert_int_equal(count_accounts(), before);
    }
}

static void admins_act_within_their_jurisdiction(void **state)
{
    struct auth_principal admin = { "admin01", AUTH_ADMIN, "01", "" };
    struct auth_principal a = { "clerk.hcm", AUTH_CLERK, "26740", "" };
    struct lt_error err;
    size_t before;

    (void)state;
    add("admin01", AUTH_ADMIN, "01", "");
    add("far.away", AUTH_CLERK, "26740", "");
    before = count_accounts();
    assert_int_equal(auth_account_add(au, &admin, &a, GOOD, &err), LT_EFORBIDDEN);
    snprintf(a.unit, sizeof(a.unit), "VN");
    assert_int_equal(auth_account_add(au, &admin, &a, GOOD, &err), LT_EFORBIDDEN);
    a.role = AUTH_NODE;
    snprintf(a.unit, sizeof(a.unit), "00004");
    assert_int_equal(auth_account_add(au, &admin, &a, GOOD, &err), LT_EFORBIDDEN);
    assert_int_equal(auth_account_disable(au, &admin, "far.away", &err), LT_EFORBIDDEN);
    assert_int_equal(auth_account_disable(au, &admin, "nobody", &err), LT_ENOTFOUND);
    assert_int_equal(count_accounts(), before);
    a.role = AUTH_CLERK;
    snprintf(a.account, sizeof(a.account), "clerk.badinh");
    assert_int_equal(auth_account_add(au, &admin, &a, GOOD, &err), LT_OK);
    assert_int_equal(auth_account_disable(au, &admin, "clerk.badinh", &err), LT_OK);
}

static void sessions_end_every_way(void **state)
{
    struct auth_session s;
    struct auth_principal p;
    unsigned char csrf[AUTH_HASH_BYTES];
    struct lt_error err;
    int64_t retry;

    (void)state;
    add("officer1", AUTH_OFFICER, "00004", "");
    add("citizen1", AUTH_CITIZEN, "00004", "001090000001");

    assert_int_equal(auth_login(au, "officer1", GOOD, "10.0.0.1", &s, &retry, &err), LT_OK);
    assert_int_equal(strlen(s.token), AUTH_TOKEN_CHARS);
    assert_int_equal(strspn(s.token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
                     AUTH_TOKEN_CHARS);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_OK);
    assert_string_equal(p.account, "officer1");
    assert_int_equal(p.role, AUTH_OFFICER);
    assert_string_equal(p.unit, "00004");
    assert_true(auth_csrf_matches(csrf, s.csrf));
    assert_false(auth_csrf_matches(csrf, s.token));
    assert_false(auth_csrf_matches(csrf, NULL));
    /* One character off is another token. */
    s.token[5] = s.token[5] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_EUNAUTH);

    /* Each way a session ends is tested right after a successful check,
     * which the server keeps in its session cache: the end must win. */
    assert_int_equal(auth_login(au, "officer1", GOOD, "10.0.0.1", &s, &retry, &err), LT_OK);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_OK);
    assert_int_equal(auth_logout(au, s.token, &err), LT_OK);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_EUNAUTH);
    assert_int_equal(auth_logout(au, s.token, &err), LT_EUNAUTH);

    assert_int_equal(auth_session_open(au, "officer1", "t", 1, &s, &err), LT_OK);
    usleep(5000);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_EUNAUTH);

    assert_int_equal(auth_login(au, "citizen1", GOOD, "10.0.0.2", &s, &retry, &err), LT_OK);
    assert_string_equal(s.principal.person_id, "001090000001");
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_OK);
    assert_int_equal(auth_account_passwd(au, "citizen1", "another-good-one-8", &err), LT_OK);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_EUNAUTH);
    assert_int_equal(auth_login(au, "citizen1", GOOD, "10.0.0.2", &s, &retry, &err), LT_EUNAUTH);
    assert_int_equal(auth_login(au, "citizen1", "another-good-one-8", "10.0.0.2", &s, &retry, &err),
                     LT_OK);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_OK);
    assert_int_equal(auth_account_disable(au, NULL, "citizen1", &err), LT_OK);
    assert_int_equal(auth_authenticate(au, s.token, &p, csrf, &err), LT_EUNAUTH);
    assert_int_equal(auth_login(au, "citizen1", "another-good-one-8", "10.0.0.2", &s, &retry, &err),
                     LT_EUNAUTH);
    assert_int_equal(auth_session_open(au, "citizen1", "t", 0, &s, &err), LT_EFORBIDDEN);
}

static void failed_logins_are_limited(void **state)
{
    struct auth_session s;
    struct lt_error err;
    int64_t retry = 0;

    (void)state;
    add("victim", AUTH_CLERK, "00004", "");
    for (int i = 0; i < AUTH_FAIL_MAX; i++) {
        assert_int_equal(auth_login(au, "victim", "wrong-guess-1", "10.9.9.9", &s, &retry, &err),
                         LT_EUNAUTH);
    }
    /* Even the right password waits now, from that address... */
    assert_int_equal(auth_login(au, "victim", GOOD, "10.9.9.9", &s, &retry, &err), LT_ELIMIT);
    assert_true(retry > 0 && retry <= AUTH_FAIL_WINDOW_MS);
    /* ...and from any other, as the account is limited too. */
    assert_int_equal(auth_login(au, "victim", GOOD, "10.1.1.1", &s, &retry, &err), LT_ELIMIT);
    /* The address is limited for other accounts as well. */
    assert_int_equal(auth_login(au, "officer1", GOOD, "10.9.9.9", &s, &retry, &err), LT_ELIMIT);
    /* Unknown accounts count like wrong passwords, with the same answer. */
    for (int i = 0; i < AUTH_FAIL_MAX; i++) {
        assert_int_equal(auth_login(au, "ghost", GOOD, "10.7.7.7", &s, &retry, &err), LT_EUNAUTH);
        assert_string_equal(err.message, "wrong account or password");
    }
    assert_int_equal(auth_login(au, "ghost", GOOD, "10.7.7.8", &s, &retry, &err), LT_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weak_passwords_say_what_is_missing),
        cmocka_unit_test(hashes_verify),
        cmocka_unit_test(the_limiter_counts_in_a_window),
        cmocka_unit_test(bad_accounts_are_refused_and_nothing_changes),
        cmocka_unit_test(admins_act_within_their_jurisdiction),
        cmocka_unit_test(sessions_end_every_way),
        cmocka_unit_test(failed_logins_are_limited),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
