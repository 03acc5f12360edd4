#!/usr/bin/env bash
# Install the pinned test-chain tools (anvil binary, solc) into tools/chain-deps/node_modules.
# Uses the committed package-lock.json (npm ci) so CI gets exactly the same bytes.
# Afterwards the anvil binary is tools/chain-deps/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
# (tests also honour AISC_ANVIL=/path/to/anvil).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
anvil="node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
chmod +x "$anvil"
"$anvil" --version | head -n 1
