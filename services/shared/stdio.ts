/**
 * Blocking writes to stdout and stderr when they are pipes (Docker, Kubernetes, systemd, a
 * process manager, a test harness all read a node's logs through one).
 *
 * Node writes to a pipe asynchronously, and moleculer ends a graceful stop with
 * `process.exit(0)`: whatever the pipe had not taken yet was dropped — with debug logging, or a
 * reader slower than the stop, the last lines of the shutdown, "ServiceBroker is stopped. Good
 * bye." among them (seen as an intermittent failure of test/integration/npm-start.test.ts under
 * load). Files and terminals are written synchronously by Node already; this makes pipes do the
 * same, as pino's default destination does.
 */
export function blockingStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })._handle;
    if ((stream as unknown as { _type?: string })._type === "pipe") handle?.setBlocking?.(true);
  }
}
