#!/usr/bin/env bash
# Regenerates src/p2p/pb/dacnet.js and dacnet.d.ts from src/p2p/pb/dacnet.proto.
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
sed 's/Uint8Array<ArrayBuffer>/Uint8Array/g' "$work/out/dacnet.d.ts" > src/p2p/pb/dacnet.d.ts
cp "$work/out/dacnet.js" src/p2p/pb/
echo "generated src/p2p/pb/dacnet.js and src/p2p/pb/dacnet.d.ts"
