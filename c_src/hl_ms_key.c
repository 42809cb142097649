/*
 * hl_ms_key.c: what a match specification's heads say about the key, the
 * part of the compiled program the select family plans its walk with (see
 * hl_ms.h): each head's key pattern as ETS classifies it, and the hash
 * tables' rule that every head binding its key means looking the keys up.
 */
#include "hl_keyrange.h"
#include "hl_ms_int.h"
#include "hl_term.h"

size_t hl_ms_nclauses(const hl_ms *ms)
{
    return ms->nclauses;
}

int hl_ms_head_key(const hl_ms *ms, size_t i, unsigned keypos, hl_bytes *key)
{
    hl_bytes h = ms->clauses[i].head_bytes;
    size_t arity;
    *key = h;
    if (hl_keyrange_is_wild(h))
        return HL_KEY_UNBOUND;
    if (!keypos || hl_term_tuple_arity(h.data, h.len, &arity) || arity < keypos ||
        hl_term_tuple_element(h.data, h.len, keypos, key))
        return HL_MS_KEY_NONE;
    return (int)hl_keyrange_kind(*key);
}

void hl_ms_set_keypos(hl_ms *ms, unsigned keypos)
{
    ms->keypos = keypos;
    ms->keyed = keypos != 0;
    for (size_t i = 0; i < ms->nclauses; i++) {
        hl_ms_clause *cl = &ms->clauses[i];
        int kind = hl_ms_head_key(ms, i, keypos, &cl->key);
        if (kind == HL_MS_KEY_NONE)
            cl->key = (hl_bytes){NULL, 0};
        else if (kind != HL_KEY_BOUND)
            ms->keyed = 0;
    }
}

int hl_ms_keyed(const hl_ms *ms)
{
    return ms->keyed;
}
