// Importing this module registers every worker extension (restore, schedule, retention…).
export {};
