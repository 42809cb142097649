/*
 * hl_md5.h: MD5 (RFC 1321), written from the RFC.
 *
 * The Erlang distribution handshake proves knowledge of the cookie with
 * MD5(cookie ++ decimal challenge); that is its only use here, so this is a
 * plain, unhurried implementation with no dependency. MD5 is not a secure
 * hash; the protocol chose it, not us.
 */
#ifndef HL_MD5_H
#define HL_MD5_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t s[4];
    uint64_t len; /* bytes hashed so far */
    unsigned char block[64];
} hl_md5_ctx;

void hl_md5_init(hl_md5_ctx *c);
void hl_md5_update(hl_md5_ctx *c, const void *data, size_t n);
/* Write the 16-byte digest; c must be initialised again before reuse. */
void hl_md5_final(hl_md5_ctx *c, unsigned char out[16]);
/* The digest of one byte string. */
void hl_md5(const void *data, size_t n, unsigned char out[16]);

#endif
