/*
 * test_store_meta.c: cmocka tests of the table meta format (hl_store_int.h,
 * hl_store_meta.c): what a store written by an older Heirloom still reads
 * as, and what this one writes.
 *
 * A version 1 value is built by hand, byte for byte as version 1 wrote it,
 * so the test does not depend on the encoder it checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hl_store_int.h"
#include "hl_term.h"

#include <string.h>

static const unsigned char OWNER[] = {97, 1}, HEIR[] = {97, 2}, DATA[] = {97, 3};

/* Version 1: 17 fixed bytes (no flags), then owner, heir, heir data, name. */
static size_t meta_v1(unsigned char *p)
{
    static const unsigned char fixed[17] = {1, HL_SET, HL_PRIVATE, 1, HL_HEIR_PID, 0, 0, 0, 2,
                                            0, 0,      0,          0, 0,           0, 0, 9};
    size_t n = sizeof fixed;
    memcpy(p, fixed, n);
    const unsigned char *f[] = {OWNER, HEIR, DATA};
    for (int i = 0; i < 3; i++) {
        hl_put_u32(p + n, 2);
        memcpy(p + n + 4, f[i], 2);
        n += 6;
    }
    hl_put_u32(p + n, 0);
    return n + 4;
}

static hl_meta meta_full(int adopted)
{
    hl_meta m = {0};
    m.type = HL_SET;
    m.keypos = 2;
    m.access = HL_PRIVATE;
    m.named = 1;
    m.dbid = 9;
    m.own = (hl_own){{OWNER, 2}, HL_HEIR_PID, {HEIR, 2}, {DATA, 2}, adopted};
    return m;
}

static void assert_meta(const hl_meta *got, int adopted)
{
    assert_int_equal(got->type, HL_SET);
    assert_int_equal(got->keypos, 2);
    assert_int_equal(got->access, HL_PRIVATE);
    assert_int_equal(got->named, 1);
    assert_int_equal(got->dbid, 9);
    assert_true(hl_bytes_eq(got->own.owner, (hl_bytes){OWNER, 2}));
    assert_int_equal(got->own.heir_kind, HL_HEIR_PID);
    assert_true(hl_bytes_eq(got->own.heir, (hl_bytes){HEIR, 2}));
    assert_true(hl_bytes_eq(got->own.heir_data, (hl_bytes){DATA, 2}));
    assert_int_equal(got->own.adopted, adopted);
}

static void test_store_meta_version1_reads_as_not_adopted(void **state)
{
    (void)state;
    unsigned char v1[64];
    size_t n = meta_v1(v1);
    hl_meta got;
    hl_bytes long_name;
    assert_int_equal(hl_store_meta_decode(v1, n, &got, &long_name), HL_OK);
    assert_meta(&got, 0);
    assert_int_equal(long_name.len, 0);
    /* One byte short, or one too many: refused. */
    assert_int_equal(hl_store_meta_decode(v1, n - 1, &got, &long_name), HL_ESTORE);
    v1[n] = 0;
    assert_int_equal(hl_store_meta_decode(v1, n + 1, &got, &long_name), HL_ESTORE);
}

static void test_store_meta_round_trip_keeps_adopted(void **state)
{
    (void)state;
    for (int adopted = 0; adopted <= 1; adopted++) {
        hl_meta m = meta_full(adopted), got;
        hl_buf out = {0};
        hl_bytes long_name;
        assert_int_equal(hl_store_meta_encode(&m, (hl_bytes){NULL, 0}, &out), HL_OK);
        assert_int_equal(out.data[0], 3);              /* written as version 3 */
        assert_int_equal(out.data[17], adopted);       /* the flags byte */
        assert_int_equal(out.len, 18 + 3 * 6 + 4 + 4); /* flags and an empty name more than v1 */
        assert_int_equal(hl_store_meta_decode(out.data, out.len, &got, &long_name), HL_OK);
        assert_meta(&got, adopted);
        hl_buf_free(&out);
    }
}

static void test_store_meta_unknown_version_or_flags_refused(void **state)
{
    (void)state;
    hl_meta m = meta_full(1), got;
    hl_buf out = {0};
    hl_bytes long_name;
    assert_int_equal(hl_store_meta_encode(&m, (hl_bytes){NULL, 0}, &out), HL_OK);
    out.data[17] = 0x03; /* a flag this version does not know */
    assert_int_equal(hl_store_meta_decode(out.data, out.len, &got, &long_name), HL_ESTORE);
    out.data[17] = 0x01;
    out.data[0] = 4; /* a later version */
    assert_int_equal(hl_store_meta_decode(out.data, out.len, &got, &long_name), HL_ESTORE);
    out.data[0] = 0;
    assert_int_equal(hl_store_meta_decode(out.data, out.len, &got, &long_name), HL_ESTORE);
    assert_int_equal(hl_store_meta_decode(out.data, 0, &got, &long_name), HL_ESTORE);
    hl_buf_free(&out);
}

/* Version 2 is version 3 without the creation name: it reads with none. */
static void test_store_meta_version2_reads_without_name(void **state)
{
    (void)state;
    hl_meta m = meta_full(1), got;
    hl_buf out = {0};
    hl_bytes long_name;
    assert_int_equal(hl_store_meta_encode(&m, (hl_bytes){NULL, 0}, &out), HL_OK);
    out.data[0] = 2;
    assert_int_equal(hl_store_meta_decode(out.data, out.len - 4, &got, &long_name), HL_OK);
    assert_meta(&got, 1);
    assert_int_equal(got.name.len, 0);
    /* The same bytes as version 3 lack the fifth field. */
    out.data[0] = 3;
    assert_int_equal(hl_store_meta_decode(out.data, out.len - 4, &got, &long_name), HL_ESTORE);
    hl_buf_free(&out);
}

/* An unnamed table keeps the name it was created with; a named one stores
 * none (its key is its name). */
static void test_store_meta_creation_name(void **state)
{
    (void)state;
    static const unsigned char name[] = {HL_TAG_SMALL_ATOM_UTF8, 3, 'f', 'o', 'o'};
    hl_meta m = meta_full(0), got;
    hl_buf out = {0};
    hl_bytes long_name;
    m.named = 0;
    m.name = (hl_bytes){name, sizeof name};
    assert_int_equal(hl_store_meta_encode(&m, (hl_bytes){NULL, 0}, &out), HL_OK);
    assert_int_equal(hl_store_meta_decode(out.data, out.len, &got, &long_name), HL_OK);
    assert_true(hl_bytes_eq(got.name, m.name));
    m.named = 1;
    assert_int_equal(hl_store_meta_encode(&m, (hl_bytes){NULL, 0}, &out), HL_OK);
    assert_int_equal(hl_store_meta_decode(out.data, out.len, &got, &long_name), HL_OK);
    assert_int_equal(got.name.len, 0);
    hl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_meta_version1_reads_as_not_adopted),
        cmocka_unit_test(test_store_meta_round_trip_keeps_adopted),
        cmocka_unit_test(test_store_meta_unknown_version_or_flags_refused),
        cmocka_unit_test(test_store_meta_version2_reads_without_name),
        cmocka_unit_test(test_store_meta_creation_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
