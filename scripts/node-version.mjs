// Runs before `npm start`, `npm run dev`, `npm run worker` and `npm run cli`, with whatever
// node is on PATH and before any TypeScript loads: stops with one sentence on an old Node.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  console.error(
    `[vaultline] Node.js ${process.versions.node} is too old: Vaultline needs Node.js 22.15 or newer (24 LTS recommended; see "Prerequisites" in README.md).`,
  );
  process.exit(1);
}
