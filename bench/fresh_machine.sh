#!/usr/bin/env bash
# Time `make demo`, `make test` and `.ci/run` as a fresh machine sees them (docs/benchmarks.md).
#
#   bench/fresh_machine.sh WORKDIR [demo|test|ci]...   (default: all three, in that order)
#
# "Fresh" as far as flashnews can tell: a new clone of this repository's HEAD in WORKDIR, no
# .venv, and HOME, XDG_CACHE_HOME and PIP_CACHE_DIR pointed at empty folders, so pip downloads
# every package again and the llama.cpp wheel (cached in ~/.cache/flashnews/wheels) is compiled
# again. `make test` runs in the clone `make demo` installed (what a newcomer does next);
# `.ci/run` gets a clone and empty caches of its own. The eval data is linked beside each clone
# when FLASHNEWS_EVAL_DATA names it. Each step's log and wall seconds go to WORKDIR.
set -uo pipefail
work=${1:?usage: bench/fresh_machine.sh WORKDIR [demo|test|ci]...}
shift
steps=("${@:-demo test ci}")
steps=(${steps[*]})
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
mkdir -p "$work"

fresh() {  # fresh NAME: an empty home and caches, a new clone, the eval data beside it
    local dir="$work/$1"
    rm -rf "$dir" && mkdir -p "$dir/home" "$dir/pip"
    git clone -q "$repo" "$dir/repo"
    if [ -n "${FLASHNEWS_EVAL_DATA:-}" ]; then ln -s "$FLASHNEWS_EVAL_DATA" "$dir/shared"; fi
}

timed() {  # timed NAME DIR COMMAND...: run in DIR/repo with the fresh caches, record seconds
    local name=$1 dir=$2
    shift 2
    local start
    start=$(date +%s)
    (cd "$dir/repo" && env -u FLASHNEWS_EVAL_DATA HOME="$dir/home" \
        XDG_CACHE_HOME="$dir/home/.cache" PIP_CACHE_DIR="$dir/pip" "$@") \
        >"$work/$name.log" 2>&1
    local code=$?
    echo "$name: exit $code, $(( $(date +%s) - start )) s" | tee -a "$work/times.txt"
}

for step in "${steps[@]}"; do
    case $step in
    demo) fresh local && timed demo "$work/local" make demo ;;
    test) [ -d "$work/local/repo" ] || fresh local
          timed test "$work/local" make test ;;
    ci)   fresh ci && timed ci "$work/ci" .ci/run ;;
    *)    echo "unknown step $step" >&2; exit 2 ;;
    esac
done
