// `npm run bench`: quiet the engine's info logs before any module reads LOG_LEVEL, then
// run the benchmark (main.ts).
process.env.LOG_LEVEL ??= "error";
await import("./main");
export {};
