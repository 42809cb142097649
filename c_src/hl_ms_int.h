/*
 * hl_ms_int.h: the compiled form of a match specification, shared by the
 * compiler (hl_ms.c), the runner (hl_ms_run.c) and the guard functions
 * (hl_ms_bif.c, hl_ms_arith.c). Not a public contract: other modules use hl_ms.h.
 *
 * A program is an array of nodes; a node's children are a run of indices
 * in `kids`. Constant parts of the spec are kept as views of the spec's own
 * bytes (the program owns a copy of the spec). During a run, values are
 * views of ETF bytes: into the object, the spec, or the run's arena, whose
 * blocks never move until the next object.
 */
#ifndef HL_MS_INT_H
#define HL_MS_INT_H

#include "hl_ms.h"

enum {
    /* patterns */
    P_ANY,   /* '_' */
    P_VAR,   /* '$N': a = slot */
    P_CONST, /* c: compared with =:= */
    P_TUPLE, /* n kids from k */
    P_CONS,  /* kids k: head, tail */
    P_MAP,   /* n pairs; kids k..: key (a P_CONST), value pattern */
    /* expressions */
    E_CONST,   /* c */
    E_VAR,     /* a = slot */
    E_ALL,     /* '$_' */
    E_ALLVARS, /* '$$' */
    E_TUPLE,   /* {{...}}: n kids */
    E_CONS,    /* [H|T]: kids head, tail */
    E_MAP,     /* n pairs of kids: key, value */
    E_CALL     /* a = function id, n argument kids */
};

typedef struct {
    unsigned char op;
    uint32_t a; /* slot or function id */
    uint32_t n; /* number of kids (pairs for maps) */
    uint32_t k; /* first kid index in kids */
    hl_bytes c; /* constant */
} hl_ms_node;

typedef struct {
    uint32_t head;    /* pattern node */
    uint32_t nguards; /* guard expression nodes: kids[guards..+nguards) */
    uint32_t guards;
    uint32_t nbody;
    uint32_t body;
    uint32_t nvars;    /* slots used by this clause */
    uint32_t *var_num; /* per slot, the variable's number (for '$$' order) */
    uint32_t *order;   /* slots sorted by variable number */
    hl_bytes head_bytes;
    hl_bytes key; /* when ms->keyed: the head's bound key, or len 0 (matches nothing) */
} hl_ms_clause;

/* Memory for values made during one run; blocks never move. */
typedef struct hl_ms_block {
    struct hl_ms_block *next;
    size_t used, cap;
    unsigned char data[];
} hl_ms_block;

struct hl_ms {
    unsigned char *spec; /* owned copy of the spec bytes */
    size_t spec_len;
    hl_ms_node *nodes;
    size_t nnodes, cap_nodes;
    uint32_t *kids;
    size_t nkids, cap_kids;
    hl_ms_clause *clauses;
    size_t nclauses;
    uint32_t max_vars;
    unsigned keypos; /* hl_ms_set_keypos */
    int keyed;       /* hash tables' rule: every head binds its key or matches nothing */
    /* run state */
    hl_bytes *slots;
    unsigned char *bound;
    hl_bytes obj, self;
    const hl_ms_clause *cur; /* the clause being tried, for '$$' */
    int in_body;             /* evaluating a body: failed calls give 'EXIT' */
    hl_ms_block *arena;
    hl_buf tmp; /* scratch for building one value */
};

/* Guard functions: the ids in E_CALL nodes. */
typedef struct {
    const char *name;
    unsigned min, max; /* arity range; max UINT32_MAX for variadic */
} hl_ms_fn;
extern const hl_ms_fn hl_ms_fns[];
extern const size_t hl_ms_nfns;
/* Ids that the runner treats specially (short-circuit). */
enum { HL_MS_FN_ANDALSO = 0, HL_MS_FN_ORELSE = 1, HL_MS_FN_SELF = 2 };
/* Every id: the index of its entry in hl_ms_fns (hl_ms_bif.c). */
enum {
    F_ANDALSO,
    F_ORELSE,
    F_SELF,
    F_IS_ATOM,
    F_IS_FLOAT,
    F_IS_INTEGER,
    F_IS_LIST,
    F_IS_NUMBER,
    F_IS_PID,
    F_IS_PORT,
    F_IS_REFERENCE,
    F_IS_TUPLE,
    F_IS_MAP,
    F_IS_BINARY,
    F_IS_FUNCTION,
    F_IS_RECORD,
    F_IS_MAP_KEY,
    F_MAP_GET,
    F_MAP_SIZE,
    F_ABS,
    F_ELEMENT,
    F_HD,
    F_TL,
    F_LENGTH,
    F_NODE,
    F_ROUND,
    F_TRUNC,
    F_FLOAT,
    F_SIZE,
    F_BIT_SIZE,
    F_BYTE_SIZE,
    F_BINARY_PART,
    F_PLUS,
    F_MINUS,
    F_TIMES,
    F_DIVIDE,
    F_DIV,
    F_REM,
    F_BAND,
    F_BOR,
    F_BXOR,
    F_BNOT,
    F_BSL,
    F_BSR,
    F_GT,
    F_GE,
    F_LT,
    F_LE,
    F_EXACT_EQ,
    F_EQ,
    F_EXACT_NE,
    F_NE,
    F_NOT,
    F_AND,
    F_OR,
    F_XOR
};

/* A number argument: its kind, its value when it is a float or fits an
 * int64, and its bytes (v) for bignums. */
typedef enum { N_NONE, N_INT, N_FLOAT, N_BIG } hl_ms_num_kind;
typedef struct {
    hl_ms_num_kind k;
    int64_t i;
    double d;
    hl_bytes v;
} hl_ms_num;
hl_ms_num hl_ms_num_of(hl_bytes v);
/* The integer i as a canonical term in the arena. HL_OK or HL_ENOMEM. */
int hl_ms_put_int(hl_ms *ms, int64_t i, hl_bytes *out);
/* The arithmetic functions (+ - * / div rem band bor bxor bnot bsl bsr abs
 * float round trunc, unary + and -), exact for integers of any size, but
 * for products, left shifts and dividends past HL_BIG_MAX_LIMBS
 * (hl_bigint.h: HL_EUNSUPPORTED). HL_OK with *out,
 * HL_MS_RAISE (badarith, badarg), HL_ENOMEM or HL_EUNSUPPORTED. */
int hl_ms_arith(hl_ms *ms, uint32_t f, const hl_bytes *a, uint32_t n, hl_bytes *out);

/* An Erlang exception while evaluating: > 0, never returned past hl_ms. */
#define HL_MS_RAISE 1

/* Copy n bytes into the run's arena; *out views them. HL_OK or HL_ENOMEM. */
int hl_ms_keep(hl_ms *ms, const void *p, size_t n, hl_bytes *out);
/* Keep ms->tmp's contents in the arena as *out (tmp is emptied). */
int hl_ms_keep_tmp(hl_ms *ms, hl_bytes *out);

/* Apply function id to argument values a[0..n). HL_OK with *out, HL_MS_RAISE,
 * HL_ENOMEM or HL_EUNSUPPORTED. */
int hl_ms_bif(hl_ms *ms, uint32_t id, const hl_bytes *a, uint32_t n, hl_bytes *out);

/* The value of key in map m: 1 found (*val set), 0 absent or not a map. */
int hl_ms_map_get(hl_bytes m, hl_bytes key, hl_bytes *val);
/* The atoms true/false as canonical terms. */
extern const hl_bytes hl_ms_true, hl_ms_false;
/* 1 when v is the atom true / false (canonical or not). */
int hl_ms_is_atom(hl_bytes v, const char *name);
/* Pattern equality of two canonical terms: their bytes (floats by bits,
 * as erts's eq(): a 0.0 pattern does not match -0.0). */
int hl_ms_canon_eq(hl_bytes a, hl_bytes b);
/* hl_ms_map_get; canonical: both sides canonical. */
int hl_ms_map_find(hl_bytes m, hl_bytes key, hl_bytes *val, int canonical);
/* =:= of two terms. */
int hl_ms_exact_eq(hl_bytes a, hl_bytes b);
/* Head and tail of a non-empty list value; the tail may be made in the
 * arena. HL_OK, HL_MS_RAISE (not a non-empty list) or HL_ENOMEM. */
int hl_ms_list_split(hl_ms *ms, hl_bytes l, hl_bytes *head, hl_bytes *tail);

#endif
