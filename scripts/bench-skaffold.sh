#!/usr/bin/env bash
# Save-to-live under the real `skaffold dev` (docker deployer, generated
# rules), per example: an edit synced by Skaffold and reloaded by
# skaffold-filesync, against the rebuild and redeploy of the same app that
# a dependency-manifest change causes. Splits the sync's save-to-live into
# Skaffold's own part (its watcher's poll and debounce, save → its
# `Syncing` line) and ours (`docker exec tar`, the shim, the reload, the
# app's start). Writes the "Under skaffold dev" section of BENCHMARKS.md.
# One case at a time, so the figures are not skewed by a parallel build.
#   scripts/bench-skaffold.sh [EDITS]   (edits per example, default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
EDITS=${1:-10}
scripts/setup.sh >/dev/null
scripts/docker.sh start >/dev/null
trap 'scripts/docker.sh stop' EXIT
log=$(mktemp)
FILESYNC_EDITS=$EDITS cargo test -q -p filesync-e2e --test skaffold_dev -- \
  --nocapture --test-threads=1 _generated 2>&1 | tee "$log" | grep -E "^(save-to-live|rebuild-and-redeploy|test result)"
section=$(mktemp)
{
  echo "<!-- skaffold-dev:begin (written by scripts/bench-skaffold.sh) -->"
  echo "## Under \`skaffold dev\`"
  echo
  echo "Reproduce with \`scripts/bench-skaffold.sh [EDITS]\`. The real Skaffold v2.24.0 CLI (\`skaffold dev\`, docker deployer, rules from \`filesync skaffold --write\`) builds each example with pack v0.40.6 and lifecycle v0.21.17 on a Paketo-shaped builder, in a private Docker Engine ($(.work/docker/root/usr/bin/docker -H unix://$PWD/.work/docker/docker.sock version -f '{{.Server.Version}}' 2>/dev/null || echo 20.10)), on $(nproc) cores; $(date -u +%Y-%m-%d). *Sync*: median over $EDITS edits of the time from saving the file to the first HTTP answer (on 127.0.0.1, through Skaffold's published port) with the new content. *Skaffold's part*: save → Skaffold's own \`Syncing 1 files\` line (its file watcher polls once a second, \`--watch-poll-interval\`, then debounces); *ours*: the rest — \`docker exec … tar\`, our shim, the reload (restart or in-container rebuild) and the app's own start. *Rebuild+redeploy*: saving the dependency manifest → the new container serving (pack build with its cache, new container)."
  echo
  echo "| example (run image) | sync: save-to-live | Skaffold's part | ours | rebuild+redeploy | rebuild / sync |"
  echo "|---|---|---|---|---|---|"
  grep '^BENCH ' "$log" | sed 's/^BENCH //' | awk '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s (%s) | %d ms | %d ms (%.0f%%) | %d ms | %.1f s | **%.1f×** |\n",
      v["example"], tolower(v["stack"]), v["sync_ms"], v["skaffold_ms"],
      100 * v["skaffold_ms"] / v["sync_ms"], v["ours_ms"], v["rebuild_ms"] / 1000,
      v["rebuild_ms"] / v["sync_ms"]
  }'
  echo "<!-- skaffold-dev:end -->"
} > "$section"
grep -q '^BENCH ' "$log" || { echo "bench-skaffold: no figures (see the test output above)" >&2; exit 1; }
# Replace the section in BENCHMARKS.md (or append it).
if grep -q '<!-- skaffold-dev:begin' BENCHMARKS.md; then
  awk -v f="$section" '/<!-- skaffold-dev:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
    /<!-- skaffold-dev:end -->/ { skip = 0; next } !skip' BENCHMARKS.md > BENCHMARKS.md.new
  mv BENCHMARKS.md.new BENCHMARKS.md
else
  { echo; cat "$section"; } >> BENCHMARKS.md
fi
rm -f "$log" "$section"
echo "==> wrote the skaffold dev section of BENCHMARKS.md"
