// Registers the deploy watcher with the worker; imported by lib/backup/extensions.ts.
import { registerWorkerExtension } from "../backup/worker";
import { config } from "../config";
import { hooksFromConfig } from "./hooks";
import { startDeployWatcher } from "./watcher";

registerWorkerExtension(async (ctx) => startDeployWatcher(ctx, hooksFromConfig(config())));
