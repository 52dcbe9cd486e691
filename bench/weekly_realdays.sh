#!/bin/sh
# The week in review over the real days (docs/weekly.md): run each day's flash edition headless
# on the configured model (the embedded one by default), then the week, timing each, then lint
# the weekly against the days' papers with `flashnews check`.
# Usage: bench/weekly_realdays.sh WORKDIR   (FLASHNEWS_EVAL_DATA: where data/realday is)
set -eu
work=${1:?usage: bench/weekly_realdays.sh WORKDIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${FLASHNEWS_EVAL_DATA:-$repo/../shared}/data/realday
flashnews=$repo/.venv/bin/flashnews
export FLASHNEWS_HOME="$work/home"
mkdir -p "$work"
for day in 2026-02-24 2026-02-25; do
  /usr/bin/time -f "daily $day: %e s" "$flashnews" run --date "$day" --source "$data/$day.jsonl" \
    --headless --out "$work/out" --timings
done
/usr/bin/time -f "weekly: %e s" "$flashnews" run --date 2026-02-25 --format weekly --headless \
  --out "$work/out" --timings
cat "$data/2026-02-24.jsonl" "$data/2026-02-25.jsonl" > "$work/days.jsonl"
"$flashnews" check "$work/out/2026-02-25-weekly.md" --papers "$work/days.jsonl" --date 2026-02-25
