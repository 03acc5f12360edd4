#!/usr/bin/env bash
# The test command (README): the whole suite on 2 workers. Real chains: anvil (from
# tools/chain-deps, installed by `bash tools/chain-deps/install.sh`) and LiteSVM in process.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${AISC_ANVIL:-}" ] && [ -x tools/chain-deps/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ]; then
  export AISC_ANVIL="$PWD/tools/chain-deps/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
fi
exec python -m pytest -n 2 -p no:cacheprovider "$@"
