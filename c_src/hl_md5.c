/*
 * hl_md5.c: MD5 as RFC 1321 specifies it (see hl_md5.h).
 *
 * The 64 additive constants are floor(abs(sin(i + 1)) * 2^32); the four
 * rounds use F, G, H and I on the message words in the RFC's orders.
 */
#include "hl_md5.h"

#include <string.h>

static const uint32_t K[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u,
    0xfd469501u, 0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u,
    0xa679438eu, 0x49b40821u, 0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du,
    0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u, 0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu,
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au, 0xfffa3942u, 0x8771f681u, 0x6d9d6122u,
    0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u, 0x289b7ec6u, 0xeaa127fau,
    0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u, 0xf4292244u,
    0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu,
    0xeb86d391u,
};

/* Left-rotation amounts, four per round. */
static const unsigned R[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void transform(uint32_t s[4], const unsigned char block[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++) /* words are little-endian */
        x[i] = (uint32_t)block[4 * i] | ((uint32_t)block[4 * i + 1] << 8) |
               ((uint32_t)block[4 * i + 2] << 16) | ((uint32_t)block[4 * i + 3] << 24);
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g, round = i / 16;
        switch (round) {
        case 0:
            f = (b & c) | (~b & d);
            g = i;
            break;
        case 1:
            f = (b & d) | (c & ~d);
            g = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
            break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + K[i] + x[g], R[round][i % 4]);
        a = t;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
}

void hl_md5_init(hl_md5_ctx *c)
{
    c->s[0] = 0x67452301u;
    c->s[1] = 0xefcdab89u;
    c->s[2] = 0x98badcfeu;
    c->s[3] = 0x10325476u;
    c->len = 0;
}

void hl_md5_update(hl_md5_ctx *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        size_t have = (size_t)(c->len % 64), take = 64 - have;
        if (take > n)
            take = n;
        memcpy(c->block + have, p, take);
        c->len += take;
        p += take;
        n -= take;
        if (c->len % 64 == 0)
            transform(c->s, c->block);
    }
}

void hl_md5_final(hl_md5_ctx *c, unsigned char out[16])
{
    uint64_t bits = c->len * 8;
    static const unsigned char pad[64] = {0x80};
    unsigned char len_le[8];
    size_t have = (size_t)(c->len % 64);
    /* Pad with 0x80 then zeros up to 56 mod 64, then the bit length. */
    hl_md5_update(c, pad, have < 56 ? 56 - have : 120 - have);
    for (int i = 0; i < 8; i++)
        len_le[i] = (unsigned char)(bits >> (8 * i));
    hl_md5_update(c, len_le, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(c->s[i] >> (8 * j));
}

void hl_md5(const void *data, size_t n, unsigned char out[16])
{
    hl_md5_ctx c;
    hl_md5_init(&c);
    hl_md5_update(&c, data, n);
    hl_md5_final(&c, out);
}
