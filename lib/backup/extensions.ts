// Importing this module registers every worker extension (restore, schedule, retention…).
import "./restore-worker";
import "./automation";
import "../deploy/worker-extension";
