/*
 * hl_store_mcache.c: the last table's meta each thread read, for reads and
 * row writes of the same table (contract in hl_store_int.h; a row write
 * holds the write lock that every meta change takes, so the generation it
 * sees cannot move under it: hl_store.c's op_try).
 *
 * Why: a lookup otherwise spends a search of LMDB's main database and one
 * of the meta database, and a decode, before it reaches its row. The one
 * idea: what is remembered is valid for a read whose snapshot has the same
 * meta generation as the snapshot it was read in (op->meta_gen, checked
 * around the snapshot's begin in hl_store.c's op_try; the generation moves
 * with every committed meta change in any process, hl_store_wlock.c), so a
 * give_away, a drop or a rename committed anywhere is seen exactly when the
 * snapshot has it.
 *
 * Per thread: no lock, and the views handed out live until the thread's
 * next store operation (callbacks never call the store). Fixed-size, so a
 * thread that ends leaves nothing allocated; names and values too long for
 * it are not remembered.
 */
#include "hl_store_int.h"

#include <string.h>

typedef struct {
    uint64_t serial; /* the store's (hl_store_open); 0: empty */
    uint64_t gen;
    size_t name_len, val_len;
    unsigned char name[264];
    unsigned char val[512];
    hl_meta meta; /* views into val */
} meta_cache;
static _Thread_local meta_cache cached;

int hl_store_mcache_get(hl_store_op *op, hl_bytes name)
{
    if (cached.serial != op->s->serial || cached.gen != op->meta_gen ||
        cached.name_len != name.len || memcmp(cached.name, name.data, name.len))
        return 0;
    op->meta = cached.meta;
    op->meta_val = (MDB_val){cached.val_len, cached.val};
    op->long_name = (hl_bytes){NULL, 0};
    return 1;
}

void hl_store_mcache_put(hl_store_op *op, hl_bytes name)
{
    hl_bytes long_name;
    cached.serial = 0;
    if (op->meta_val.mv_size > sizeof cached.val || name.len > sizeof cached.name)
        return;
    memcpy(cached.val, op->meta_val.mv_data, op->meta_val.mv_size);
    memcpy(cached.name, name.data, name.len);
    if (hl_store_meta_decode(cached.val, op->meta_val.mv_size, &cached.meta, &long_name) == HL_OK) {
        cached.name_len = name.len;
        cached.val_len = op->meta_val.mv_size;
        cached.gen = op->meta_gen;
        cached.serial = op->s->serial;
    }
}
