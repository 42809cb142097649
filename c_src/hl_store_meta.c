/*
 * hl_store_meta.c: the pure parts of the store (see hl_store_int.h): the
 * meta value format, the long-key hash, the handle cache, and the key of an
 * object (hl_store_object_key).
 *
 * The meta value is a versioned binary record, so that a later Heirloom can
 * still read the tables an older one left in a tmpfs directory:
 *
 *   byte 0      format version (3; versions 1 and 2 are still read)
 *   byte 1..4   type, access, named, heir kind
 *   byte 5..8   keypos (u32, big-endian)
 *   byte 9..16  dbid (u64, big-endian)
 *   byte 17     flags, version 2 on: bit 0 adopted (hl_owner.h); other
 *               bits must be 0
 *   then four length-prefixed (u32) byte strings: owner pid, heir pid, heir
 *   data, and the table name when the meta key is hashed (else empty);
 *   version 3 adds a fifth: the name an unnamed table was created with
 *   (empty for named tables), which ETS's info(T, name) returns.
 *
 * Version 1 (before the adopted mark) reads as adopted = 0, which is what
 * it was; versions 1 and 2 read with no creation name. A table rewritten by
 * this version is written as version 3. An older build refuses a newer
 * value (HL_ESTORE) rather than drop what it cannot keep, so every C node
 * and NIF on one directory must be of this version or later.
 */
#include "hl_store_int.h"

#include "hl_term.h"

#include <stdlib.h>
#include <string.h>

#define META_VERSION 3
#define META_FIXED_V1 17
#define META_FIXED 18
#define META_ADOPTED 0x01

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* Byte-wise FNV-1a, finalised so that every input bit reaches every output
 * bit (plain FNV's high bits mix poorly). */
static uint64_t hash_fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return fmix64(h ^ (uint64_t)n);
}

/* Word-wise multiply-rotate (murmur3's 64-bit lane): a different structure
 * from FNV, so the two halves fail independently. */
static uint64_t hash_murmur(const unsigned char *p, size_t n)
{
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)n * c2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t k = 0;
        for (int j = 7; j >= 0; j--)
            k = (k << 8) | p[i + (size_t)j];
        k = rotl64(k * c1, 31) * c2;
        h = rotl64(h ^ k, 27) * 5 + 0x52dce729;
    }
    uint64_t k = 0;
    for (size_t j = n; j > i; j--)
        k = (k << 8) | p[j - 1];
    h ^= rotl64(k * c1, 31) * c2;
    return fmix64(h ^ (uint64_t)n);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    hl_put_u32(p, (uint32_t)(v >> 32));
    hl_put_u32(p + 4, (uint32_t)v);
}

static uint64_t get_u64(const unsigned char *p)
{
    return ((uint64_t)hl_get_u32(p) << 32) | hl_get_u32(p + 4);
}

void hl_store_hash128(const unsigned char *p, size_t n, unsigned char out[16])
{
    put_u64(out, hash_fnv(p, n));
    put_u64(out + 8, hash_murmur(p, n));
}

int hl_store_key_of(hl_bytes term, unsigned char tmp[HL_STORE_HASHED_KEY], MDB_val *key)
{
    if (term.len <= HL_STORE_MAX_INLINE_KEY) {
        key->mv_data = (void *)term.data;
        key->mv_size = term.len;
        return 0;
    }
    tmp[0] = 0xFF;
    hl_store_hash128(term.data, term.len, tmp + 1);
    key->mv_data = tmp;
    key->mv_size = HL_STORE_HASHED_KEY;
    return 1;
}

static int put_field(hl_buf *out, hl_bytes f)
{
    if (f.len > UINT32_MAX)
        return HL_ENOMEM;
    int rc = hl_buf_append_u32(out, (uint32_t)f.len);
    return rc ? rc : hl_buf_append(out, f.data, f.len);
}

int hl_store_meta_encode(const hl_meta *m, hl_bytes long_name, hl_buf *out)
{
    unsigned char fixed[META_FIXED];
    fixed[0] = META_VERSION;
    fixed[1] = (unsigned char)m->type;
    fixed[2] = (unsigned char)m->access;
    fixed[3] = (unsigned char)(m->named != 0);
    fixed[4] = (unsigned char)m->own.heir_kind;
    hl_put_u32(fixed + 5, m->keypos);
    put_u64(fixed + 9, m->dbid);
    fixed[17] = m->own.adopted ? META_ADOPTED : 0;
    int pid_heir = m->own.heir_kind == HL_HEIR_PID;
    hl_bytes none = {NULL, 0};
    out->len = 0;
    int rc = hl_buf_append(out, fixed, sizeof fixed);
    if (!rc)
        rc = put_field(out, m->own.owner);
    if (!rc)
        rc = put_field(out, pid_heir ? m->own.heir : none);
    if (!rc)
        rc = put_field(out, pid_heir ? m->own.heir_data : none);
    if (!rc)
        rc = put_field(out, long_name);
    if (!rc)
        rc = put_field(out, m->named ? none : m->name);
    return rc;
}

static int get_field(const unsigned char *p, size_t len, size_t *pos, hl_bytes *f)
{
    if (len - *pos < 4)
        return HL_ESTORE;
    size_t n = hl_get_u32(p + *pos);
    *pos += 4;
    if (len - *pos < n)
        return HL_ESTORE;
    f->data = n ? p + *pos : NULL;
    f->len = n;
    *pos += n;
    return HL_OK;
}

int hl_store_meta_decode(const unsigned char *p, size_t len, hl_meta *m, hl_bytes *long_name)
{
    memset(m, 0, sizeof *m);
    int version = len ? p[0] : 0;
    size_t fixed = version == 1 ? META_FIXED_V1 : version == 2 || version == 3 ? META_FIXED : 0;
    if (!fixed || len < fixed || p[1] > HL_DUPLICATE_BAG || p[2] > HL_PRIVATE ||
        p[4] > HL_HEIR_PID || (fixed == META_FIXED && (p[17] & ~META_ADOPTED)))
        return HL_ESTORE;
    m->own.adopted = fixed == META_FIXED && (p[17] & META_ADOPTED);
    m->type = (hl_table_type)p[1];
    m->access = (hl_access)p[2];
    m->named = p[3];
    m->own.heir_kind = (hl_heir_kind)p[4];
    m->keypos = hl_get_u32(p + 5);
    m->dbid = get_u64(p + 9);
    size_t pos = fixed;
    int rc = get_field(p, len, &pos, &m->own.owner);
    if (!rc)
        rc = get_field(p, len, &pos, &m->own.heir);
    if (!rc)
        rc = get_field(p, len, &pos, &m->own.heir_data);
    if (!rc)
        rc = get_field(p, len, &pos, long_name);
    if (!rc && version >= 3)
        rc = get_field(p, len, &pos, &m->name);
    if (!rc && (pos != len || m->keypos == 0 || m->dbid == 0))
        rc = HL_ESTORE;
    return rc;
}

/* --- the handle cache --------------------------------------------------- */

static size_t slot_of(uint64_t dbid, size_t cap)
{
    return (size_t)fmix64(dbid) & (cap - 1);
}

int hl_store_dbis_get(const hl_store_dbis *c, uint64_t dbid, MDB_dbi *dbi)
{
    if (!c->cap)
        return 0;
    for (size_t i = slot_of(dbid, c->cap);; i = (i + 1) & (c->cap - 1)) {
        if (c->ids[i] == dbid) {
            *dbi = c->dbis[i];
            return 1;
        }
        if (c->ids[i] == 0)
            return 0;
    }
}

static void insert_slot(hl_store_dbis *c, uint64_t dbid, MDB_dbi dbi)
{
    size_t i = slot_of(dbid, c->cap);
    while (c->ids[i] != 0 && c->ids[i] != dbid)
        i = (i + 1) & (c->cap - 1);
    if (c->ids[i] == 0)
        c->n++;
    c->ids[i] = dbid;
    c->dbis[i] = dbi;
}

/* Rebuild into cap slots, leaving out `skip` (0: keep all). */
static int rebuild(hl_store_dbis *c, size_t cap, uint64_t skip)
{
    hl_store_dbis nc = {calloc(cap, sizeof *nc.ids), calloc(cap, sizeof *nc.dbis), cap, 0};
    if (!nc.ids || !nc.dbis) {
        hl_store_dbis_free(&nc);
        return HL_ENOMEM;
    }
    for (size_t i = 0; i < c->cap; i++)
        if (c->ids[i] && c->ids[i] != skip)
            insert_slot(&nc, c->ids[i], c->dbis[i]);
    hl_store_dbis_free(c);
    *c = nc;
    return HL_OK;
}

int hl_store_dbis_put(hl_store_dbis *c, uint64_t dbid, MDB_dbi dbi)
{
    if ((c->n + 1) * 2 > c->cap) {
        int rc = rebuild(c, c->cap ? c->cap * 2 : 16, 0);
        if (rc)
            return rc;
    }
    insert_slot(c, dbid, dbi);
    return HL_OK;
}

/* Removal is rare (a drop): rebuilding keeps the probing simple. If the
 * rebuild cannot allocate, the entry is blanked by moving the whole map to
 * empty, which only costs re-opening handles later. */
void hl_store_dbis_remove(hl_store_dbis *c, uint64_t dbid)
{
    MDB_dbi d;
    if (!hl_store_dbis_get(c, dbid, &d))
        return;
    if (rebuild(c, c->cap, dbid) != HL_OK)
        hl_store_dbis_free(c);
}

void hl_store_dbis_free(hl_store_dbis *c)
{
    free(c->ids);
    free(c->dbis);
    memset(c, 0, sizeof *c);
}

/* The key of a canonical object (no version byte) of this table, in the key
 * form: objects keep -0.0, keys do not (0.0 =:= -0.0). A view into obj, or
 * into scratch when the key holds a -0.0. */
int hl_store_object_key(const hl_meta *m, hl_bytes obj, hl_buf *scratch, hl_bytes *key)
{
    size_t arity;
    hl_bytes elem;
    if (obj.len == 0 || hl_term_tuple_arity(obj.data, obj.len, &arity) || arity < m->keypos ||
        hl_term_tuple_element(obj.data, obj.len, m->keypos, &elem))
        return HL_EBADARG;
    return hl_term_key_form(elem, scratch, key);
}
