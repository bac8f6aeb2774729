#!/usr/bin/env bash
# Regenerates src/p2p/pb/dacnet.js and dacnet.d.ts from src/p2p/pb/dacnet.proto (into $OUT_DIR if set:
# the test suite checks that the committed files are what this script makes).
# protons emits TypeScript with `namespace`/`enum`, which Node's type stripping cannot run, so the generated
# TypeScript is compiled once to JavaScript plus declarations, and those two files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp src/p2p/pb/dacnet.proto "$work/"
npm exec -- protons "$work/dacnet.proto"
cat > "$work/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "target": "es2024", "module": "nodenext", "moduleResolution": "nodenext", "declaration": true,
    "strict": true, "skipLibCheck": true, "verbatimModuleSyntax": true, "types": [],
    "rootDir": ".", "outDir": "out"
  },
  "files": ["dacnet.ts"]
}
JSON
ln -s "$PWD/node_modules" "$work/node_modules"
echo '{ "type": "module" }' > "$work/package.json"
npm exec -- tsc -p "$work/tsconfig.json"
# Shards may live in SharedArrayBuffers (the erasure pool) or pooled Buffers: accept any Uint8Array.
out="${OUT_DIR:-src/p2p/pb}"
sed 's/Uint8Array<ArrayBuffer>/Uint8Array/g' "$work/out/dacnet.d.ts" > "$out/dacnet.d.ts"
cp "$work/out/dacnet.js" "$out/"
echo "generated $out/dacnet.js and $out/dacnet.d.ts"
