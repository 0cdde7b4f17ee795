#!/usr/bin/env bash
# Synthesizes the demo's audio with espeak-ng (installed by scripts/setup.sh): 4 clips of "yes" and
# 4 of other words (no, up, down, left) in different English voices, as OUT/yes/*.wav and
# OUT/other/*.wav (the folder names are the labels `bmru demo` reads). Skips clips that exist.
# Usage: bash scripts/demo-audio.sh [OUT]   (default results/demo/audio)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/results/demo/audio}"
command -v espeak-ng >/dev/null 2>&1 || { echo "demo-audio: espeak-ng is not installed (bash scripts/setup.sh)" >&2; exit 1; }
clips=(
    "yes en-us" "yes en-gb" "yes en-us+f3" "yes en-gb-scotland"
    "no en-us+m3" "up en-gb+f2" "down en-us" "left en-029"
)
for clip in "${clips[@]}"; do
    read -r word voice <<<"$clip"
    label=other
    [ "$word" = yes ] && label=yes
    file="$OUT/$label/${word}_${voice//+/_}.wav"
    [ -s "$file" ] && continue
    mkdir -p "$OUT/$label"
    espeak-ng -v "$voice" -s 150 -w "$file" "$word"
done
echo "demo-audio: ${#clips[@]} clips in $OUT"
