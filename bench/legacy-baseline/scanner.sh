#!/bin/bash
# The legacy scanner, as a benchmark baseline: every INTERVAL seconds it re-reads each user's whole
# ~/.pingchilling and sends one notification (a JSON POST with curl) per "Finished" line it has
# not seen before. Lines present at its start are not notified. Pure bash apart from curl (and
# sleep): no fork per file, so its idle cost is the reading itself.
#   scanner.sh HOMES_DIR INTERVAL_SECONDS NOTIFY_URL
homes=$1
interval=${2:-10}
url=$3
declare -A seen
first=1
while :; do
  for f in "$homes"/*/.pingchilling; do
    [[ -f $f ]] || continue
    mapfile -t lines < "$f"
    n=0
    for l in "${lines[@]}"; do
      [[ $l == *": Finished ["* ]] || continue
      n=$((n + 1))
      if [[ -z $first ]] && (( n > ${seen[$f]:-0} )); then
        esc=${l//\\/\\\\}
        esc=${esc//\"/\\\"}
        curl -s -m 10 -o /dev/null -H 'content-type: application/json' -d "{\"file\": \"$f\", \"text\": \"$esc\"}" "$url"
      fi
    done
    seen[$f]=$n
  done
  first=
  sleep "$interval"
done
