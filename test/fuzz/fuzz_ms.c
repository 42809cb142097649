/*
 * fuzz_ms.c: libFuzzer target on the match specification engine, behind
 * the decoder the C node uses on every request argument.
 *
 * Input: a term in external format with its version byte, as
 * term_to_binary({Spec, Object}) gives it. It is canonicalised (the C
 * node's own hl_term_canon_binary), then Spec is compiled, and when it is
 * accepted, run both ways (results and the boolean of select_count), with
 * the keyed-head rule for keypos 1 and 2, on Object if it is a tuple, or on
 * each tuple of it if it is a list. A result that is not exactly one
 * well-formed term aborts.
 * Seeds: test/fuzz/corpus/ms, made from the ExUnit generator's specs
 * (make fuzz-ms-seeds). A crash, leak, sanitizer report or a run over the
 * time limit is a finding.
 */
#include "hl_ms.h"
#include "hl_term.h"

#include <stdint.h>
#include <stdlib.h>

/* Run on one object; a result must be exactly one well-formed term. */
static void run_one(hl_ms *ms, hl_bytes obj, hl_buf *out)
{
    int matched = 0;
    size_t pos = 0;
    out->len = 0;
    if (!hl_ms_run(ms, obj, obj, out, &matched) && matched &&
        (hl_term_skip(out->data, out->len, &pos) || pos != out->len))
        abort();
    (void)hl_ms_run_true(ms, obj, obj, &matched);
}

static int run_each(void *ctx, hl_bytes obj)
{
    hl_buf out = {0};
    size_t arity;
    if (!hl_term_tuple_arity(obj.data, obj.len, &arity))
        run_one(ctx, obj, &out);
    hl_buf_free(&out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_buf canon = {0}, out = {0};
    hl_bytes spec, obj;
    size_t arity;
    if (hl_term_canon_binary(data, size, &canon) || canon.len < 2)
        goto done;
    hl_bytes t = {canon.data + 1, canon.len - 1};
    if (hl_term_tuple_arity(t.data, t.len, &arity) || arity != 2 ||
        hl_term_tuple_element(t.data, t.len, 1, &spec) ||
        hl_term_tuple_element(t.data, t.len, 2, &obj))
        goto done;
    for (unsigned keypos = 0; keypos < 3; keypos++) {
        hl_ms *ms = NULL;

        if (hl_ms_compile(spec.data, spec.len, &ms))
            break;
        if (keypos)
            hl_ms_set_keypos(ms, keypos);
        if (!hl_term_tuple_arity(obj.data, obj.len, &arity))
            run_one(ms, obj, &out);
        else
            (void)hl_term_list_each(obj.data, obj.len, run_each, ms);
        hl_ms_free(ms);
    }
done:
    hl_buf_free(&canon);
    hl_buf_free(&out);
    return 0;
}
