import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { chokidarWatcher } from "../adapters/watcher.js";
import { systemClock } from "../adapters/clock.js";
import { commitTriggerPaths } from "../adapters/git-refs.js";
import { WatchedTmux } from "../adapters/watched-tmux.js";
import { GitCli } from "../adapters/git.js";
import { closeHostServers } from "../app/host-world.js";
import { listSessions } from "../../state/sessions.repository.js";
import type { TaskEffects } from "../machines/task.machine.js";
import type { Cancel, Clock, Watcher } from "../ports.js";
import { appendEvent } from "../../state/events.repository.js";
import { openLedgerAt, type Ledger } from "../../state/ledger.js";
import { watchLedgerWrites, type LedgerWatch } from "../../state/ledger-watch.js";
import { ledgerTargetOf } from "../manifest/ledger-location.js";
import { acquireControllerLease, type HeldLease, type LeaseTiming } from "./controller-lease.js";
import { ActivityObserver } from "./activity-observer.js";
import { Controller } from "./controller.js";
import { FaultBackoff } from "./fault-backoff.js";
import type { World } from "./world.js";

export interface RunControllerOptions {
  readonly dir: string;
  readonly logger: Logger;
  readonly effects: (world: () => World) => TaskEffects;
  /** Run passes until nothing more can happen without a person, then exit. */
  readonly once?: boolean;
  /** Resync timer (default 30 s). */
  readonly resyncMs?: number;
  /** Resolves to stop a long-running controller (signals also stop it). */
  readonly stopSignal?: Promise<void>;
  /** Called after every pass (progress display, tests). */
  readonly onPass?: (controller: Controller) => void;
  /** Session health check interval (default 2 s; sessions working on a prompt are also watched by their queue loop). */
  readonly healthMs?: number;
  /** Follow panes through tmux control mode (default true); false polls them (`gaffer up --poll`). */
  readonly notifications?: boolean;
  /** Controller lease timing (tests shorten it). */
  readonly leaseTiming?: Partial<LeaseTiming>;
  /** The clock of the loop's timers, built by the entry point (default: the system clock). */
  readonly clock?: Clock;
  /** The watcher of manifests/, approvals and the control repo's refs, built by the entry point (default: chokidar). */
  readonly watcher?: Watcher;
}

/** Runs `controller.superviseSessions()` every `intervalMs`, one round at a time. */
function superviseEvery(clock: Clock, controller: Controller, intervalMs: number, faulted: () => boolean): { stop(): Promise<void> } {
  let current: Promise<void> = Promise.resolve();
  let running = false;
  const cancel = clock.every(intervalMs, () => {
    if (running) return; // a slow round is still going: skip this tick rather than queue rounds up
    if (faulted()) return; // passes are failing (ledger fault): a round could record nothing; resume with the passes
    running = true;
    current = controller.superviseSessions().finally(() => {
      running = false;
    });
  });
  return {
    stop: async () => {
      cancel();
      await current;
    },
  };
}

/**
 * `gaffer up`: one controller per control dir (a ledger lease), restore from the
 * ledger, then passes on file changes, task changes and a resync timer.
 * SIGINT/SIGTERM finish the pass under way, persist, and leave every tmux
 * session running so a restarted controller adopts them.
 */
export async function runController(options: RunControllerOptions): Promise<Controller> {
  const target = await ledgerTargetOf(options.dir);
  const ledgerFile = target.display;
  const db = await openLedgerAt(target);
  let lease: HeldLease;
  try {
    lease = await acquireControllerLease(db, { ledgerFile, actor: "controller", logger: options.logger, ...(options.leaseTiming === undefined ? {} : { timing: options.leaseTiming }) });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let lostError: unknown = null;
  lease.lost.catch((error: unknown) => (lostError = error));
  // One tmux server handle per socket for the whole process: its control client turns pane output and exits
  // into notifications, so idle sessions are not captured on every health round.
  const servers = new Map<string, WatchedTmux>();
  // A pane that printed or died is looked at within milliseconds (throttled per session), not at the next health round.
  // Both set below (the controller needs tmuxFor, which needs the observer): a look before then does nothing.
  let controller: Controller | null = null;
  let loop: PassLoop | null = null;
  // GAFFER_LOG_LEVEL=trace logs every notification and look with its times (to explain a slow one).
  const tracing = options.logger.isLevelEnabled("trace");
  const observer = new ActivityObserver(async (key) => {
    const [socket, name] = key.split("\0") as [string, string];
    if (loop !== null && loop.faulted) return null;
    // Before the pass loop is up (restoring adopted sessions), output is looked at again shortly, never dropped.
    if (loop === null || controller === null) return { againInMs: 250, busy: false };
    const started = Date.now();
    const result = await controller.observeActivity(socket, name);
    if (tracing) options.logger.trace({ session: name, started, lookMs: Date.now() - started, busy: result?.busy }, "look");
    return result;
  });
  const tmuxFor = (socket: string): { tmux: WatchedTmux; activity: WatchedTmux } => {
    let server = servers.get(socket);
    if (server === undefined) {
      servers.set(socket, (server = new WatchedTmux({ socket, logger: options.logger, notifications: options.notifications !== false })));
      server.onActivity((name) => {
        if (tracing) options.logger.trace({ session: name, at: Date.now() }, "pane activity");
        observer.poke(`${socket}\0${name}`);
      });
    }
    return { tmux: server, activity: server };
  };
  const clock = options.clock ?? systemClock();
  controller = new Controller({ dir: options.dir, db, logger: options.logger, effects: options.effects, tmuxFor, git: new GitCli() });
  await appendEvent(db, { actor: controller.actor, action: "ControllerStarted", subject: "controller", payload: { pid: process.pid, once: options.once === true } });
  let watcher: { close(): Promise<void> } | undefined;
  let timer: Cancel | undefined;
  let ledgerWatch: LedgerWatch | undefined;
  const passes = new PassLoop(controller, options);
  loop = passes;
  const health = superviseEvery(clock, controller, options.healthMs ?? 2000, () => passes.faulted);
  let unsubscribe: () => void = () => undefined;
  let stopping: ReturnType<typeof waitForStop> | null = null;
  try {
    // Listening from here, not after start-up: a Ctrl-C while sessions are restored still stops cleanly (lease released).
    if (options.once !== true) stopping = waitForStop(options.stopSignal, lease.lost);
    await controller.restore();
    // Adopted sessions (a restart) are followed like new ones.
    for (const session of await listSessions(db)) await tmuxFor(session.tmuxSocket).tmux.watch(session.tmuxName).catch(() => false);
    // Another process wrote the ledger (a hook, `session send`...): session queues waiting on a settled
    // screen wake (their next step may be in that write), and a running loop passes again.
    let onLedgerWrite = (): void => undefined;
    ledgerWatch = watchLedgerWrites(
      db,
      () => {
        for (const server of servers.values()) server.wakeAll();
        onLedgerWrite();
      },
      target.kind === "sqlite" ? { file: target.file } : {},
    );
    if (options.once === true) {
      await Promise.race([loop.untilSettled(), lease.lost]);
    } else {
      // People edit manifests/ and the approvals in status/stages/; status/tasks/ and status/controller.yaml
      // are only written by this loop, and watching them made every pass trigger the next (chokidar re-reads a
      // directory on each rename: O(tasks^2) lstat calls per manifest change).
      mkdirSync(join(options.dir, "status", "stages"), { recursive: true });
      // A commit in the control repo (an approval committed from an already edited file changes no watched
      // file) is a trigger too: HEAD, its reflog and the branch refs.
      const refs = await commitTriggerPaths(options.dir).catch(() => []);
      watcher = (options.watcher ?? chokidarWatcher()).watch([join(options.dir, "manifests"), join(options.dir, "status", "stages"), ...refs], () => loop.request());
      unsubscribe = controller.onTaskChange(() => loop.request());
      timer = clock.every(options.resyncMs ?? 30_000, () => loop.request());
      // Another process wrote the ledger (`gaffer pause`, `session send`...): SQLite bumps data_version, PostgreSQL notifies.
      onLedgerWrite = () => loop.request();
      loop.request();
      await stopping!.stopped;
      await loop.idle();
      if (lostError !== null) throw lostError;
    }
  } finally {
    // Stop every trigger first, let the pass under way finish, then the health loop and the actors:
    // nothing new starts after a stop, and the ledger is closed under no one.
    stopping?.dispose();
    unsubscribe();
    loop.close();
    timer?.();
    await ledgerWatch?.close();
    await watcher?.close();
    await loop.idle();
    await observer.close();
    await health.stop();
    await controller.stop();
    for (const server of servers.values()) await server.close().catch(() => undefined);
    await closeHostServers().catch(() => undefined);
    await appendEvent(db, { actor: controller.actor, action: "ControllerStopped", subject: "controller", payload: { pid: process.pid } }).catch(() => undefined);
    await lease.release();
    await db.destroy();
  }
  return controller;
}

/**
 * Resolves `stopped` on SIGINT/SIGTERM, `stopSignal` or a lost lease;
 * `dispose` removes the signal handlers (a second Ctrl-C then ends the
 * process at once).
 * NOTE: the handlers must still be registered when the signal's other
 * listeners run: signal-exit (loaded with execa) re-raises a signal when it
 * finds only its own listener, which killed the process before its clean
 * stop (lease never released) when the handler removed itself.
 */
function waitForStop(stopSignal?: Promise<void>, lost?: Promise<never>): { readonly stopped: Promise<void>; dispose(): void } {
  let done = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (done = () => resolve()));
  process.on("SIGINT", done);
  process.on("SIGTERM", done);
  void stopSignal?.then(done);
  lost?.catch(done);
  return {
    stopped,
    dispose: () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
    },
  };
}

/** Serializes passes: a request during a pass runs one more pass after it. */
class PassLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private readonly backoff: FaultBackoff;

  constructor(private readonly controller: Controller, private readonly options: RunControllerOptions) {
    this.backoff = new FaultBackoff({ logger: options.logger, retry: () => this.request() });
  }

  private closed = false;

  /** True while passes fail (e.g. LEDGER_DISK_FULL): they are retried with backoff. */
  get faulted(): boolean {
    return this.backoff.faulted;
  }

  /** No pass starts after this. */
  close(): void {
    this.closed = true;
    this.backoff.stop();
  }

  request(): void {
    if (this.closed) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    do {
      if (this.closed) return;
      this.again = false;
      try {
        await this.controller.pass();
        this.backoff.succeeded();
        this.options.onPass?.(this.controller);
      } catch (error) {
        this.backoff.failed(error);
      }
    } while (this.again);
  }

  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** `--once`: passes until one changes nothing and no effect is under way. */
  async untilSettled(): Promise<void> {
    while (!this.closed) {
      const result = await this.controller.pass();
      this.options.onPass?.(this.controller);
      if (result.changed) continue;
      if (!this.controller.busy) {
        await this.controller.flush();
        const confirm = await this.controller.pass();
        if (!confirm.changed && !this.controller.busy) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        const off = this.controller.onTaskChange(() => {
          off();
          resolve();
        });
      });
    }
  }
}
