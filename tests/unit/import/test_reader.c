/*
 * Tests for src/import/reader.c: CSV records (quotes, embedded commas and
 * line breaks, CRLF, a byte order mark, blank lines), NDJSON lines, the
 * line numbers of both, and bad rows (too long, binary, stray quotes,
 * unterminated quotes) that are reported without stopping the file.  The
 * last test reads a file larger than the reader's window through a pipe,
 * so records straddle refills.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "import/reader.h"

/* Read the next row of r, which must be a good one with the given cells ("|" between). */
static void expect_cells(struct import_reader *r, long line, const char *joined)
{
    struct import_row row;
    struct lt_error err;
    struct buf got;

    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    if (row.err.code != LT_OK) {
        fail_msg("line %ld: unexpected error: %s", row.line, row.err.message);
    }
    assert_int_equal(row.line, line);
    buf_init(&got, 1 << 20);
    for (size_t i = 0; i < row.ncells; i++) {
        assert_int_equal(strlen(row.cells[i]), row.lens[i]);
        buf_printf(&got, "%s%s", i ? "|" : "", row.cells[i]);
    }
    assert_string_equal(buf_str(&got), joined);
    buf_release(&got);
}

/* The next row must be bad, on line, with a message holding needle. */
static void expect_bad(struct import_reader *r, long line, enum lt_code code, const char *needle)
{
    struct import_row row;
    struct lt_error err;

    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    assert_int_equal(row.line, line);
    assert_int_equal(row.err.code, code);
    if (strstr(row.err.message, needle) == NULL) {
        fail_msg("line %ld: \"%s\" does not say \"%s\"", line, row.err.message, needle);
    }
    assert_int_equal(row.ncells, 0);
}

static void expect_end(struct import_reader *r)
{
    struct import_row row;
    struct lt_error err;

    assert_int_equal(import_read(r, &row, &err), IMPORT_END);
    assert_int_equal(import_read(r, &row, &err), IMPORT_END);
}

static struct import_reader *csv(const char *text)
{
    return import_reader_mem(text, strlen(text), IMPORT_CSV);
}

static void test_csv_plain_and_quoted(void **state)
{
    struct import_reader *r = csv("id,name,note\n"
                                  "1,An,\n"
                                  "2,\"Bình, Chi\",\"he said \"\"hi\"\"\"\n"
                                  "3,,\"\"\n"
                                  ",,\n");

    (void)state;
    expect_cells(r, 1, "id|name|note");
    expect_cells(r, 2, "1|An|");
    expect_cells(r, 3, "2|Bình, Chi|he said \"hi\"");
    expect_cells(r, 4, "3||");
    expect_cells(r, 5, "||");
    expect_end(r);
    assert_int_equal(import_reader_offset(r), 60);
    import_reader_free(r);
}

static void test_csv_line_breaks(void **state)
{
    struct import_reader *r = csv("\xEF\xBB\xBF"
                                  "a,b\r\n"
                                  "1,\"two\r\nlines\"\r\n"
                                  "\r\n"
                                  "\n"
                                  "2,\"x\ny\nz\"\n"
                                  "3,last");
    struct import_row row;
    struct lt_error err;

    (void)state;
    expect_cells(r, 1, "a|b");
    expect_cells(r, 2, "1|two\r\nlines");
    /* two blank lines are skipped, and the record after them keeps its line */
    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    assert_int_equal(row.line, 6);
    assert_int_equal(row.lines, 3);
    assert_string_equal(row.cells[1], "x\ny\nz");
    expect_cells(r, 9, "3|last");
    expect_end(r);
    import_reader_free(r);
}

static void test_csv_bad_rows_go_on(void **state)
{
    static const char in[] = "1,ab\"c,d\n"
                             "2,\"ab\"c,d\n"
                             "3,ok\n"
                             "4,b\0in,x\n"
                             "5,ok\n"
                             "6,\"open\n"
                             "7,never closed\n";
    struct import_reader *r = import_reader_mem(in, sizeof(in) - 1, IMPORT_CSV);

    (void)state;
    expect_bad(r, 1, LT_EINVAL, "a quote inside cell 2");
    expect_bad(r, 2, LT_EINVAL, "text after the closing quote of cell 2");
    expect_cells(r, 3, "3|ok");
    expect_bad(r, 4, LT_EINVAL, "binary data");
    expect_cells(r, 5, "5|ok");
    expect_bad(r, 6, LT_EINVAL, "opened on line 6 is never closed");
    expect_end(r);
    import_reader_free(r);
}

static void test_csv_caps(void **state)
{
    struct buf in;
    struct import_reader *r;

    (void)state;
    buf_init(&in, 1 << 22);
    /* a line over the cap */
    buf_append_str(&in, "1,");
    for (int i = 0; i < IMPORT_LINE_MAX; i++) {
        buf_append_char(&in, 'x');
    }
    buf_append_str(&in, "\n2,ok\n");
    /* a quoted cell over the cap, with line breaks: the record ends where its quotes do */
    buf_append_str(&in, "3,\"");
    for (int i = 0; i < IMPORT_LINE_MAX; i++) {
        buf_append_str(&in, i % 100 == 0 ? "\n" : "y");
    }
    buf_append_str(&in, "\",z\n4,ok\n");
    /* too many cells */
    for (int i = 0; i <= IMPORT_CELLS_MAX; i++) {
        buf_append_str(&in, i ? ",c" : "c");
    }
    buf_append_str(&in, "\n5,ok\n");
    /* exactly the most cells */
    for (int i = 0; i < IMPORT_CELLS_MAX; i++) {
        buf_append_str(&in, i ? ",c" : "c");
    }
    buf_append_str(&in, "\n");

    r = import_reader_mem(in.data, in.len, IMPORT_CSV);
    expect_bad(r, 1, LT_ETOOBIG, "longer than");
    expect_cells(r, 2, "2|ok");
    expect_bad(r, 3, LT_ETOOBIG, "longer than");
    /* the quoted cell holds 656 line breaks, so "4,ok" is on line 3 + 656 + 1 */
    expect_cells(r, 3 + IMPORT_LINE_MAX / 100 + 2, "4|ok");
    expect_bad(r, 3 + IMPORT_LINE_MAX / 100 + 3, LT_EINVAL, "more than 64 cells");
    expect_cells(r, 3 + IMPORT_LINE_MAX / 100 + 4, "5|ok");
    {
        struct import_row row;
        struct lt_error err;

        assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
        assert_int_equal(row.err.code, LT_OK);
        assert_int_equal(row.ncells, IMPORT_CELLS_MAX);
    }
    expect_end(r);
    import_reader_free(r);
    buf_release(&in);
}

static void expect_line(struct import_reader *r, long line, const char *text)
{
    struct import_row row;
    struct lt_error err;

    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    if (row.err.code != LT_OK) {
        fail_msg("line %ld: unexpected error: %s", row.line, row.err.message);
    }
    assert_int_equal(row.line, line);
    assert_int_equal(row.len, strlen(text));
    assert_memory_equal(row.text, text, row.len);
}

static void test_ndjson_lines(void **state)
{
    static const char in[] = "{\"a\":1}\r\n"
                             "\n"
                             "   \n"
                             "{\"b\":\"x\0y\"}\n"
                             "{\"c\":3}";
    struct import_reader *r = import_reader_mem(in, sizeof(in) - 1, IMPORT_NDJSON);

    (void)state;
    expect_line(r, 1, "{\"a\":1}");
    expect_bad(r, 4, LT_EINVAL, "binary data: a NUL byte at column 8");
    expect_line(r, 5, "{\"c\":3}");
    expect_end(r);
    import_reader_free(r);
}

static void test_ndjson_too_long(void **state)
{
    struct buf in;
    struct import_reader *r;

    (void)state;
    buf_init(&in, 1 << 22);
    buf_append_str(&in, "{\"x\":\"");
    for (int i = 0; i < 3 * IMPORT_LINE_MAX; i++) {
        buf_append_char(&in, 'x');
    }
    buf_append_str(&in, "\"}\n{\"ok\":1}\n");
    for (int i = 0; i < IMPORT_LINE_MAX + 1; i++) {
        buf_append_char(&in, 'z');
    }
    r = import_reader_mem(in.data, in.len, IMPORT_NDJSON);
    expect_bad(r, 1, LT_ETOOBIG, "longer than 65536 bytes");
    expect_line(r, 2, "{\"ok\":1}");
    expect_bad(r, 3, LT_ETOOBIG, "longer than");
    expect_end(r);
    import_reader_free(r);
    buf_release(&in);
}

/* A pipe that a forked child fills with data[0..len); *child is its pid. */
static int pipe_of(const char *data, size_t len, pid_t *child)
{
    int fds[2];
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t off = 0;

        close(fds[0]);
        /* odd-sized writes, so that reads end mid-record */
        while (off < len) {
            size_t n = len - off < 7777 ? len - off : 7777;
            ssize_t w = write(fds[1], data + off, n);

            if (w <= 0) {
                _exit(1);
            }
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    *child = pid;
    return fds[0];
}

static void test_fd_matches_memory(void **state)
{
    struct buf in;
    struct import_reader *a, *b;
    struct import_row ra, rb;
    struct lt_error err;
    long rows = 0;
    pid_t child;
    int fd, status;

    (void)state;
    buf_init(&in, 1 << 24);
    for (int i = 0; i < 40000; i++) {
        buf_printf(&in, "%d,\"cell, with comma\",\"two\nlines %d\",\"q\"\"uote\"\r\n", i, i);
    }
    assert_true(in.len > 2 * 1024 * 1024);
    fd = pipe_of(in.data, in.len, &child);
    a = import_reader_fd(fd, IMPORT_CSV);
    b = import_reader_mem(in.data, in.len, IMPORT_CSV);
    for (;;) {
        enum import_read ga = import_read(a, &ra, &err);
        enum import_read gb = import_read(b, &rb, &err);

        assert_int_equal(ga, gb);
        if (ga != IMPORT_ROW) {
            break;
        }
        rows++;
        assert_int_equal(ra.err.code, LT_OK);
        assert_int_equal(ra.line, rb.line);
        assert_int_equal(ra.line, 2 * rows - 1);
        assert_int_equal(ra.ncells, 4);
        for (size_t i = 0; i < ra.ncells; i++) {
            assert_string_equal(ra.cells[i], rb.cells[i]);
        }
    }
    assert_int_equal(rows, 40000);
    assert_int_equal(import_reader_offset(a), in.len);
    import_reader_free(a);
    import_reader_free(b);
    close(fd);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    buf_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_plain_and_quoted), cmocka_unit_test(test_csv_line_breaks),
        cmocka_unit_test(test_csv_bad_rows_go_on),   cmocka_unit_test(test_csv_caps),
        cmocka_unit_test(test_ndjson_lines),         cmocka_unit_test(test_ndjson_too_long),
        cmocka_unit_test(test_fd_matches_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
