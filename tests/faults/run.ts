// `npm run test:faults`: quiet the engine's info logs before any module reads LOG_LEVEL,
// then run the suite (main.ts).
process.env.LOG_LEVEL ??= "error";
await import("./main");
export {};
