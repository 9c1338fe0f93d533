#!/usr/bin/env bash
# Cold start of the Functions package: publishes src/Functions as azd does, once as it ships and once without the
# prepared network (-p:PrepareNetwork=false, how packages were made before), then times a fresh process's first
# label from each package's network folder with an empty temp folder, the two alternating, and prints medians.
# The Functions host is not available here, so the process is the CLI's in-process labeller: the same Core path
# (network load, featurizer, model load, one photo) that the worker's warm-up and first blob trigger take.
# usage: bench/coldstart.sh [--dataset DIR] [--repeat 5] [--json FILE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dataset="${FLOWERS_DATASET_DIR:-../shared/datasets/flowers128}"; repeat=5; json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dataset) dataset="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    *) echo "coldstart.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -d "$dataset" ] || { echo "coldstart.sh: no data set at $dataset (give --dataset DIR: a folder per class)" >&2; exit 2; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for variant in before after; do
  extra=(); [ "$variant" = before ] && extra=(-p:PrepareNetwork=false)
  dotnet publish src/Functions -c Release -o "$work/pub-$variant" "${extra[@]}" -v quiet -nologo >/dev/null
done

# A small model to label with: 20 photos a class, featurized in-process.
mkdir -p "$work/photos"
for class in "$dataset"/*/; do
  name="$(basename "$class")"; mkdir -p "$work/photos/$name"
  find "$class" -maxdepth 1 -type f | sort | awk 'NR <= 20' | while read -r f; do ln -s "$(realpath "$f")" "$work/photos/$name/"; done
done
./flowers train --in-process --dataset "$work/photos" --out "$work/run" >/dev/null
photo="$(find "$work/photos" -type l | sort | awk 'NR == 1')"

first_label() { # prints seconds for one fresh process with an empty temp folder
  rm -rf "$work/tmp"; mkdir "$work/tmp"
  local start end
  start=$(date +%s%N)
  TMPDIR="$work/tmp" FLOWERS_NETWORK_DIR="$work/pub-$1/DnnImageModels" ./flowers label --model "$work/run/model.flowers" "$photo" >"$work/label-$1.txt"
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }'
}
./flowers label --model "$work/run/model.flowers" "$photo" >/dev/null # the CLI built and the photo in the page cache
declare -a before after
for _ in $(seq "$repeat"); do before+=("$(first_label before)"); after+=("$(first_label after)"); done
cmp -s "$work/label-before.txt" "$work/label-after.txt" || { echo "coldstart.sh: the two packages labelled differently" >&2; exit 1; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mb() { du -sm "$1" | cut -f1; }
mb_before=$(mb "$work/pub-before"); mb_after=$(mb "$work/pub-after")
m_before=$(median "${before[@]}"); m_after=$(median "${after[@]}")
printf '%-34s %10s %10s\n' "" "before" "after"
printf '%-34s %10s %10s\n' "package size (MB)" "$mb_before" "$mb_after"
printf '%-34s %10s %10s\n' "files" "$(find "$work/pub-before" -type f | wc -l)" "$(find "$work/pub-after" -type f | wc -l)"
printf '%-34s %10s %10s\n' "first label, clean temp (s, median)" "$m_before" "$m_after"
printf 'runs before: %s\nruns after:  %s\nratio before/after: %s\n' "${before[*]}" "${after[*]}" "$(awk -v b="$m_before" -v a="$m_after" 'BEGIN { printf "%.2f", b / a }')"
echo "label (both): $(cut -f2,3 "$work/label-after.txt")"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(grep -o 'avx512_vnni\|avx2' /proc/cpuinfo | sort -u | xargs)"
if [ -n "$json" ]; then
  printf '{"packageMbBefore":%s,"packageMbAfter":%s,"firstLabelSecondsBefore":[%s],"firstLabelSecondsAfter":[%s],"medianBefore":%s,"medianAfter":%s}\n' \
    "$mb_before" "$mb_after" "$(IFS=,; echo "${before[*]}")" "$(IFS=,; echo "${after[*]}")" "$m_before" "$m_after" >"$json"
fi
