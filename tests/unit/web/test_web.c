/*
 * test_web.c - the web UI's embedded files (src/web/web.c): every file has
 * a content type and a hash-made ETag, names are plain base names, every
 * page route's file is there, and look-ups by names that try to leave the
 * set find nothing.  Serving over sockets is tests/integration/test_web.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "web/web.h"

static void every_file_has_a_type_and_an_etag(void **state)
{
    size_t n = 0;

    (void)state;
    for (const struct embedded_file *f = web_files(); f->name != NULL; f++) {
        size_t len = strlen(f->etag);

        if (web_content_type(f->name) == NULL) {
            fail_msg("%s has no content type", f->name);
        }
        assert_int_equal(len, 18);
        assert_true(f->etag[0] == '"' && f->etag[len - 1] == '"');
        assert_int_equal(strspn(f->etag + 1, "0123456789abcdef"), 16);
        assert_int_equal(strspn(f->name, "abcdefghijklmnopqrstuvwxyz0123456789._-"),
                         strlen(f->name));
        assert_true(f->name[0] != '.');
        assert_true(f->len > 0);
        assert_int_equal(strlen(f->data), f->len); /* text files: no NUL inside */
        n++;
    }
    assert_true(n >= 20);
}

static void pages_and_their_scripts_are_there(void **state)
{
    static const char *const names[] = {
        "index.html",   "login.html",   "receive.html",    "queue.html",
        "dossier.html", "receipt.html", "indicators.html", "nodes.html",
        "app.css",      "print.css",    "i18n.js",         "common.js",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct embedded_file *f = web_file_find(names[i]);

        assert_non_null(f);
        assert_string_equal(f->name, names[i]);
    }
    assert_string_equal(web_content_type("a.html"), "text/html; charset=utf-8");
    assert_string_equal(web_content_type("a.js"), "text/javascript; charset=utf-8");
    assert_string_equal(web_content_type("a.css"), "text/css; charset=utf-8");
    assert_null(web_content_type("a.sh"));
    assert_null(web_content_type("Makefile"));
}

static void names_that_leave_the_set_find_nothing(void **state)
{
    static const char *const names[] = {
        "",         ".",          "..",      "../meson.build", "/etc/passwd", "..\\app.css",
        "app.css/", "./app.css",  "APP.CSS", "app.css ",       "app",         "web/app.css",
        "%2e%2e",   "app.css%00", "index",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (web_file_find(names[i]) != NULL) {
            fail_msg("\"%s\" was found", names[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_file_has_a_type_and_an_etag),
        cmocka_unit_test(pages_and_their_scripts_are_there),
        cmocka_unit_test(names_that_leave_the_set_find_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
