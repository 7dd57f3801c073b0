#!/usr/bin/env bash
# Times `cptui data prepare` for the strong- and weak-shift presets on an empty cache (downloads
# included), then the second (cached) call, then tokenization with the default 4096 tokenizer.
# Usage: scripts/corpus-prep-timing.sh [path/to/cptui]   (default: .build/release/cptui)
set -euo pipefail
cd "$(dirname "$0")/.."
cptui="${1:-.build/release/cptui}"
export CPTUI_CACHE="$(mktemp -d /tmp/cptui-prep-timing.XXXXXX)"
trap 'rm -rf "$CPTUI_CACHE"' EXIT
t() {
  local s
  s=$(date +%s.%N)
  "$@" >/dev/null
  awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f s", b - a }'
}
echo "fresh prepare (downloads + extraction): $(t "$cptui" data prepare strong-shift weak-shift)"
echo "second prepare:                         $(t "$cptui" data prepare strong-shift weak-shift)"
echo "tokenize (train tokenizer on D0 + all): $(t "$cptui" data prepare --tokenize strong-shift weak-shift)"
"$cptui" data info strong-shift weak-shift
