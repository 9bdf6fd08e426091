// Quiet logs in tests unless asked for; tests pass their own configuration to each node.
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "fatal";
process.env.METRICS_PORT = process.env.METRICS_PORT ?? "0";
