#!/usr/bin/env bash
# Rebuild the committed test-contract artefacts contracts/build/<Name>.json from contracts/src/*.sol
# with the solc pinned in tools/chain-deps/package.json. Run from anywhere:
#   tools/chain-deps/install.sh && contracts/build.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -d "$here/../tools/chain-deps/node_modules/solc" ]; then
  echo "solc is not installed: run tools/chain-deps/install.sh first" >&2
  exit 1
fi
exec node "$here/build.mjs"
