#!/bin/sh
# check_deps.sh [BUILD]: the C files must depend on each other one way only.
#
# Reads every BUILD/hl_*.o (default BUILD=build; build the node and the NIF
# first, `make`), maps each undefined symbol to the object that defines it,
# and so gets the file -> file graph of calls and data references. A cycle
# (a file reaching itself) is printed and the script exits 1; otherwise it
# prints the layering, leaves first: a file's layer is one more than the
# highest layer it depends on. Symbols no hl_*.o defines (libc, ei, LMDB,
# erl_nif) are outside the graph.
set -eu

build=${1:-build}
objs=$(ls "$build"/hl_*.o 2>/dev/null || true)
if [ -z "$objs" ]; then
    echo "check_deps: no $build/hl_*.o (run make first)" >&2
    exit 2
fi

for o in $objs; do
    f=$(basename "$o" .o)
    # nm -P: "name type [value size]"; U is undefined, lower case is local
    nm -P "$o" | awk -v f="$f" '{ print f, $2, $1 }'
done | awk '
function visit(u,    i, v, k) {
    state[u] = 1
    path[++depth] = u
    for (i = 1; i <= ndeps[u]; i++) {
        v = dep[u, i]
        if (state[v] == 1) {
            msg = v
            for (k = depth; k >= 1 && path[k] != v; k--)
                msg = path[k] " -> " msg
            msg = v " -> " msg
            print "check_deps: dependency cycle: " msg > "/dev/stderr"
            for (k = 1; k <= depth; k++)
                if (path[k] == v)
                    break
            via = ""
            for (; k < depth; k++)
                via = via "  " path[k] " -> " path[k + 1] ": " why[path[k], path[k + 1]] "\n"
            via = via "  " u " -> " v ": " why[u, v]
            print via > "/dev/stderr"
            cyc = 1
            return
        }
        if (state[v] == 0) {
            visit(v)
            if (cyc)
                return
        }
        if (level[v] + 1 > level[u])
            level[u] = level[v] + 1
    }
    depth--
    state[u] = 2
}
{
    files[$1] = 1
    if ($2 == "U")
        undef[++nu] = $1 SUBSEP $3
    else if ($2 ~ /^[A-Z]$/)
        owner[$3] = $1
}
END {
    for (i = 1; i <= nu; i++) {
        split(undef[i], p, SUBSEP)
        f = p[1]; s = p[2]
        if (!(s in owner) || owner[s] == f)
            continue
        t = owner[s]
        if (!((f, t) in why)) {
            dep[f, ++ndeps[f]] = t
            why[f, t] = s
        } else if (length(why[f, t]) < 60) {
            why[f, t] = why[f, t] " " s
        }
    }
    for (f in files) {
        state[f] = 0
        level[f] = 0
    }
    for (f in files)
        if (state[f] == 0) {
            depth = 0
            visit(f)
            if (cyc)
                exit 1
        }
    max = 0
    for (f in files)
        if (level[f] > max)
            max = level[f]
    print "check_deps: no cycles; layers, leaves first:"
    for (l = 0; l <= max; l++) {
        line = ""
        n = 0
        for (f in files)
            if (level[f] == l)
                names[++n] = f
        # sort names (insertion sort: a few dozen files)
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
                tmp = names[j]; names[j] = names[j - 1]; names[j - 1] = tmp
            }
        for (i = 1; i <= n; i++) {
            f = names[i]
            d = ""
            for (k = 1; k <= ndeps[f]; k++)
                d = d (d == "" ? "" : ",") dep[f, k]
            line = line sprintf("  %s%s\n", f, d == "" ? "" : " -> " d)
        }
        printf "layer %d\n%s", l, line
    }
}'
