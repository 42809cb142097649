/*
 * hl_common.h: the few types every Heirloom C module shares.
 *
 * Errors are values: every fallible function returns an `int` that is HL_OK
 * (0) or one of the negative hl_err codes below. The protocol layer is the one
 * place that turns a code into the `{error, Reason}` a BEAM caller sees, using
 * hl_err_reason() for the reason atom.
 *
 * Byte strings come in two shapes: hl_bytes borrows memory it does not own
 * (a view), hl_buf owns a growable heap buffer that hl_buf_free() releases.
 */
#ifndef HL_COMMON_H
#define HL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum {
    HL_OK = 0,
    HL_EBADARG = -1,       /* malformed term or wrong type: ETS's badarg */
    HL_ENOMEM = -2,        /* allocation failed */
    HL_ENOTABLE = -3,      /* the table does not exist */
    HL_EEXISTS = -4,       /* a named table with that name exists */
    HL_EACCESS = -5,       /* the table's access mode refuses this caller */
    HL_ENOTOWNER = -6,     /* only the owner may do this */
    HL_ECOLLISION = -7,    /* two different long keys share one hash */
    HL_ESTORE = -8,        /* LMDB failed; the store logs the detail */
    HL_EFULL = -9,         /* the LMDB map is full */
    HL_EUNSUPPORTED = -10, /* valid in ETS, not (yet) in Heirloom */
    HL_EOWNED = -11,       /* claim: another live process owns the table */
    HL_ENOPROC = -12,      /* the target process is not alive */
    HL_EUNKNOWN = -13,     /* no such request (verb and arity) */
    HL_EWOULDBLOCK = -14,  /* a no-wait read met a busy lock: redo where waiting is fine */
    HL_EFORGED = -15,      /* a call's From is not the sender the distribution proved */
    HL_EHANDLE = -16,      /* NIF: a store handle from an unloaded instance of the library */
    HL_ETYPE = -17,        /* new/2 taking over a held table of another type */
    HL_EKEYPOS = -18,      /* new/2 taking over a held table with another keypos */
    HL_ETABTYPE = -19 /* an operation ETS refuses on this table type (select_replace on a bag) */
} hl_err;

/* The reason atom (as a C string) for an error code: "badarg", "no_table",
 * ... Never NULL; unknown codes give "internal". */
const char *hl_err_reason(int err);

/* A borrowed view of bytes. The memory belongs to someone else and must
 * outlive the view. len == 0 means "absent" where a field is optional. */
typedef struct {
    const unsigned char *data;
    size_t len;
} hl_bytes;

/* An owned, growable buffer. Zero-initialise it ({0}) before first use;
 * release with hl_buf_free(), which leaves it zeroed and reusable. */
typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
    int borrowed; /* data is the caller's storage (hl_buf_on), not the heap */
} hl_buf;

/*
 * Start b on storage of cap bytes that the caller owns and keeps alive as
 * long as b is used (whatever b held is dropped, not freed). Appends fill
 * it; a larger need moves b's bytes to the heap, which hl_buf_free then
 * frees (it never frees the storage). For short-lived buffers of usually
 * small terms, a NIF call's table name and key: no malloc in the common
 * case. Never copy such a buffer to where the storage does not live.
 */
void hl_buf_on(hl_buf *b, void *storage, size_t cap);

/* Ensure room for `extra` more bytes. HL_OK or HL_ENOMEM (buffer unchanged). */
int hl_buf_reserve(hl_buf *b, size_t extra);
/* Append n bytes. HL_OK or HL_ENOMEM (buffer unchanged). */
int hl_buf_append(hl_buf *b, const void *p, size_t n);
int hl_buf_append_byte(hl_buf *b, unsigned char c);
/* Append big-endian integers, as the external term format wants them. */
int hl_buf_append_u16(hl_buf *b, uint16_t v);
int hl_buf_append_u32(hl_buf *b, uint32_t v);
void hl_buf_free(hl_buf *b);

/*
 * Make room for at least `need` elements of `elem` bytes in an array whose
 * capacity is *cap, growing by doubling from `first`. arrp is the address
 * of the caller's pointer to the array (any T **: it is read and written
 * with memcpy, so no cast to void ** is needed). On success the pointer and
 * *cap may change (old pointers into the array are then invalid) and the
 * first *cap elements are usable, contents preserved; new ones are not
 * zeroed. HL_OK, or HL_ENOMEM with both unchanged. The caller owns the array
 * and frees it with free().
 */
int hl_grow(void *arrp, size_t *cap, size_t need, size_t elem, size_t first);

static inline hl_bytes hl_buf_view(const hl_buf *b)
{
    hl_bytes v = {b->data, b->len};
    return v;
}

static inline int hl_bytes_eq(hl_bytes a, hl_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static inline uint16_t hl_get_u16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t hl_get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void hl_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

#endif
