// Compile contracts/src/*.sol with the pinned npm solc (tools/chain-deps) into contracts/build/<Name>.json.
// Run through contracts/build.sh. Output is deterministic: same sources + same solc => same bytes.
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "tools", "chain-deps", "package.json"));
const solc = require("solc");

const srcDir = join(here, "src");
const outDir = join(here, "build");
mkdirSync(outDir, { recursive: true });

const files = readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort();
const sources = {};
for (const f of files) sources[f] = { content: readFileSync(join(srcDir, f), "utf8") };

const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};
const input = { language: "Solidity", sources, settings };
const output = JSON.parse(solc.compile(JSON.stringify(input)));

const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

for (const f of files) {
  const sha = createHash("sha256").update(sources[f].content).digest("hex");
  for (const [name, c] of Object.entries(output.contracts[f] || {})) {
    if (!c.evm.bytecode.object) continue; // interfaces
    const art = {
      contractName: name,
      sourceName: `contracts/src/${f}`,
      sourceSha256: sha,
      compiler: { name: "solc", version: solc.version(), settings },
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
    };
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify(art, null, 2) + "\n");
    console.log(`contracts/build/${name}.json`);
  }
}
