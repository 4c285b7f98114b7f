#!/usr/bin/env bash
# One-shot GPU session of issue 14 (see scripts/gpu_session.py). Usage, from the repo root:
#   scripts/gpu_session.sh OUT [EXTRA COMMAND ...]
# Runs the sweep and the pgan part side by side (each under `timeout`), packs the small work
# files into OUT/logs.tar.gz, then runs the optional EXTRA command under `timeout $EXTRA_S`
# (it may write files under $GPU_WORK/extra/: they are added to the tarball afterwards).
# OUT ends with at most 8 files: sweep.json, mnist-32.{safetensors,json,training.json},
# fashion-32.{...}, logs.tar.gz. Budgets (seconds) come from the environment:
#   SWEEP_S (400)  PGAN_TRAIN_S (330)  PGAN_MARGIN_S (80)  EXTRA_S (90)  GPU_ARGS (extra flags)
#   PARTS ("sweep pgan": either or both)  PGAN_ARGS (extra flags of the pgan part, e.g. --recipes)
set -u
OUT=${1:?usage: scripts/gpu_session.sh OUT [EXTRA COMMAND ...]}
shift
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-.} GANLAB_DATA=${GANLAB_DATA:-.devicedata}
export GPU_WORK=${GPU_WORK:-/tmp/ganlab-gpu}
PY=${PY:-python3}
SWEEP_S=${SWEEP_S:-400}; PGAN_TRAIN_S=${PGAN_TRAIN_S:-330}; PGAN_MARGIN_S=${PGAN_MARGIN_S:-80}; EXTRA_S=${EXTRA_S:-90}
mkdir -p "$OUT" "$GPU_WORK/extra"
t0=$(date +%s)
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv >"$GPU_WORK/nvidia-smi.txt" 2>&1
# Each part also stops its own jobs at its deadline; `timeout` (+30 s) is the backstop.
PARTS=${PARTS:-sweep pgan}
p1=""; p2=""
case " $PARTS " in *" sweep "*)
timeout $((SWEEP_S + 30)) $PY scripts/gpu_session.py sweep --out "$OUT" --work "$GPU_WORK" \
    --sweep-s "$SWEEP_S" ${GPU_ARGS:-} >"$GPU_WORK/sweep.log" 2>&1 &
p1=$! ;; esac
case " $PARTS " in *" pgan "*)
timeout $((PGAN_TRAIN_S + PGAN_MARGIN_S + 30)) $PY scripts/gpu_session.py pgan --out "$OUT" --work "$GPU_WORK" \
    --pgan-train-s "$PGAN_TRAIN_S" --pgan-margin-s "$PGAN_MARGIN_S" ${GPU_ARGS:-} ${PGAN_ARGS:-} \
    >"$GPU_WORK/pgan.log" 2>&1 &
p2=$! ;; esac
# Progress on stdout while both run (the device returns the last 12,000 characters).
alive() { for p in $p1 $p2; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while alive; do
    sleep 10
    echo "--- $(( $(date +%s) - t0 )) s"; tail -n 2 "$GPU_WORK/sweep.log" "$GPU_WORK/pgan.log" 2>/dev/null
done
[ -n "$p1" ] && { wait $p1; echo "sweep exit $?"; }
[ -n "$p2" ] && { wait $p2; echo "pgan exit $?"; }
pack() {
    (cd "$GPU_WORK" && tar czf "$OUT/logs.tar.gz.tmp" --exclude='*/run' --exclude='*.safetensors' \
        ./*.log ./*.jsonl ./*.json ./*.txt pgan extra 2>/dev/null; mv "$OUT/logs.tar.gz.tmp" "$OUT/logs.tar.gz")
}
pack
echo "=== sweep"; tail -n 40 "$GPU_WORK/sweep.log"
echo "=== pgan"; grep -E "picked|FAILED|Error" "$GPU_WORK/pgan.log" | tail -n 10
if [ $# -gt 0 ]; then
    echo "=== extra: $*"
    timeout "$EXTRA_S" "$@" 2>&1 | tee "$GPU_WORK/extra/extra.log"
    echo "extra exit ${PIPESTATUS[0]}"
    pack
fi
ls -la "$OUT"; echo "total $(( $(date +%s) - t0 )) s"
