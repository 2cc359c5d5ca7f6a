#!/usr/bin/env bash
# Regenerate every part of the cosmic-ray benchmark that the docs and cards quote, from a clean clone:
# the unseen-instrument part first, then hits placed on stars (and the 4x larger set), the held-out regions of the training
# instruments, and the 2048 x 4096 speed table (run that one on an otherwise idle machine).
#
#   ASTROCLEAN_DATA_DIR=../shared/data ASTROCLEAN_MAXIMASK_PYTHON=$PWD/mm-env/bin/python \
#       bash scripts/cr_benchmarks.sh [OUT [PART ...]]   # OUT default runs/cr_benchmarks; PART: unseen
#                                        # near-stars near-stars-large default speed (default: all five)
#
# Every method of a part runs in the same run on the same cases. A peer that is not installed
# (MaxiMask needs its own TensorFlow environment, docs/benchmark.md) is listed as skipped with the
# reason. The outputs land in OUT/<part>/; copy them to docs/ and rerun the table scripts with --docs.
set -euo pipefail
out=${1:-runs/cr_benchmarks}
shift || true
parts=${*:-unseen near-stars near-stars-large default speed}
mkdir -p "$out"
ours=astroclean:cr-any,astroclean:cr-any-ens,astroclean:cr-any-fs,astroclean:auto,astroclean:ground,astroclean:space
peers=astroscrappy,lacosmic,deepcr:ACS-WFC,cosmic-conn:ground_imaging,maximask

stamp() { echo "== $1: $(date -u '+%F %T UTC'), commit $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"; }

want() { [[ " $parts " == *" $1 "* ]]; }

if want unseen; then
stamp unseen
astroclean evaluate cosmic-rays --benchmark unseen --analyses none --threads 1 -o "$out/unseen" \
    --methods "$ours,$peers" --overwrite
python scripts/unseen_table.py "$out/unseen/table.ecsv"
fi

if want near-stars; then
stamp near-stars
astroclean evaluate cosmic-rays --benchmark near-stars --analyses stars,photometry --threads 1 \
    -o "$out/near_stars" --methods "$ours,$peers" --overwrite
python scripts/cr_near_stars_table.py "$out/near_stars"
fi

if want near-stars-large; then   # 4x the hits on stars of near-stars (+-3 points inside 160 RMS)
stamp near-stars-large
astroclean evaluate cosmic-rays --benchmark near-stars-large --analyses stars,photometry --threads 1 \
    -o "$out/near_stars_large" --methods "$ours,$peers" --overwrite
python scripts/cr_near_stars_table.py "$out/near_stars_large"
fi

if want default; then
stamp default
astroclean evaluate cosmic-rays --benchmark default --analyses stars,photometry,saturated --threads 1 \
    -o "$out/default" --overwrite \
    --methods "$ours,$peers,astroscrappy:sigclip3,deepcr:decam,cosmic-conn:HST_ACS_WFC"
fi

if want speed; then
stamp speed
python benchmarks/speed_cosmic.py --sizes 2048x4096 --methods astroclean:cr-any astroclean:cr-any-ens astroclean:cr-any-fs "astroclean:cr-any[tile=1024]" astroscrappy \
    "deepcr:ACS-WFC[patch=256]" --reference astroclean:cr-any --repeats 3 --threads 2 \
    --output "$out/speed_2048x4096.ecsv"
fi
stamp done
