#!/usr/bin/env bash
# Regenerates the committed decks: characterizes generic180 and gf180mcu (typical corner, at the
# unit current of the kws models, 0.5 nA: docs/design/power.md) into results/characterization/<pdk>/ and
# compiles results/models/kws-yes-d4 with those tables into spice/kws-yes-d4/<pdk>/ (deck.cir,
# manifest.json), inputs = the first 4 frames of golden sequence 0.
#
# The decks name the model files relative to their own folder (--relative-models), so they assume the
# layout CI uses: the GF180MCU models in ../shared/pdk beside the checkout. PDK_ROOT is set to that
# folder here whatever the environment says, so the committed text never depends on the machine;
# NetlistTests (`committedDeckFiles`) checks that a fresh compile gives the same bytes.
# Run them from anywhere with: ngspice -b spice/kws-yes-d4/gf180mcu/deck.cir (writes deck.raw beside it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PDK_ROOT="$ROOT/../shared/pdk"
swift build --product bmru
BMRU="$(swift build --show-bin-path)/bmru"
IU="$(python3 -c 'import json; print(json.load(open("results/models/kws-yes-d4/config.json"))["unit_current"])')"
for pdk in generic180 gf180mcu; do
    "$BMRU" characterize --pdk "$pdk" --corner typical --unit-current "$IU" --out "results/characterization/$pdk"
    "$BMRU" netlist --model results/models/kws-yes-d4 --pdk "$pdk" --corner typical \
        --characterization "results/characterization/$pdk" --golden 0 --frames 4 --mode transient --relative-models \
        --out "spice/kws-yes-d4/$pdk"
done
