#!/usr/bin/env bash
# Mutation testing of the pure cores and the cache: does every unit test assert
# something a changed line would break? cargo-mutants changes one thing at a time in
# these files (a `>` for a `>=`, a function body for a default value…) and runs the
# library's unit tests against each change; a change no test notices is "missed".
#
# NOT run in CI: about 20 minutes on two busy cores (407 mutants, one build each).
# Run it by hand after changing these files or their tests; CONTRIBUTING.md
# ("Mutation testing") has the counts and the survivors that are left on purpose.
#
#   bash tests/mutants.sh                      # the whole run, from anywhere
#   bash tests/mutants.sh --re '^src/plan'     # the mutants whose names match (27.1
#                                              # also keeps every 'delete field' one)
#   bash tests/mutants.sh --list               # what would be run
# (arguments are passed on to cargo-mutants, after the ones below)
#
# What it runs:
# - files: planning (plan.rs), the hook's decision and state (hook.rs), the
#   environment diff (envdiff.rs), cache keys and the cache over its store
#   (cache/key.rs, cache/mod.rs; not cache/store.rs, whose keyring backends only the
#   integration tests reach), quoting and the shells' syntax (shell/*.rs, render.rs);
# - tests: `cargo test --lib` only (`--cargo-arg=--lib` reaches cargo-mutants' build
#   as well as its test command, so no integration test binary is built per mutant);
# - one job, niced: the machine is shared. cargo-mutants copies the tree to a scratch
#   directory, so no source file is ever changed here, and it builds in its own
#   $AWSROLE_MUTANTS_TARGET (default $TMPDIR/awsrole-mutants-target), kept between
#   runs so the dependencies build once, never in the working tree's target/debug.
#
# Results: mutants.out/ under $AWSROLE_MUTANTS_OUT (default target/mutants): caught.txt,
# missed.txt, unviable.txt, timeout.txt, and a log and diff per mutant.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "mutants.sh: installing cargo-mutants" >&2
    cargo install cargo-mutants --locked
fi

export CARGO_TARGET_DIR="${AWSROLE_MUTANTS_TARGET:-${TMPDIR:-/tmp}/awsrole-mutants-target}"
# No debug info: smaller, faster builds; the tests do not need it.
export CARGO_PROFILE_DEV_DEBUG=0
out="${AWSROLE_MUTANTS_OUT:-target/mutants}"
mkdir -p "$out"

exec nice cargo mutants \
    --jobs 1 \
    --no-shuffle \
    --cargo-arg=--lib \
    --output "$out" \
    --file src/chain/plan.rs \
    --file src/env/hook.rs \
    --file src/env/envdiff.rs \
    --file src/chain/cache/key.rs \
    --file src/chain/cache/mod.rs \
    --file 'src/env/shell/*.rs' \
    --file src/env/render.rs \
    "$@"
