import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { BuildResult } from '../build.js';
import { TsbuildError } from '../errors.js';
import type { ContainerConfig, Descriptor, ImageConfig } from '../oci/index.js';
import { detectRuntime, runContainer } from '../runner/index.js';
import { type LeaseHandle, type Mount, openStore, type Store } from '../store/index.js';
import { withInit } from './app-init.js';
import { imageRootfs } from './image-rootfs.js';
import { LineSplitter } from './line-splitter.js';
import type { RunOptions, WatchEvent } from './types.js';
import { startWatchdog } from './watchdog.js';

const execFileP = promisify(execFile);

export interface AppRunnerOptions {
  root: string;
  run: RunOptions;
  onEvent(event: WatchEvent): void;
}

interface App {
  id: string;
  snapshot: string;
  controller: AbortController;
  stopSignal: string;
  stopping: boolean;
  done: Promise<void>;
  exited: boolean;
}

/** The process of an image as `docker run IMAGE [CMD…]` starts it. */
export function appProcess(config: ContainerConfig, args?: string[]) {
  const argv = [...(config.Entrypoint ?? []), ...(args && args.length > 0 ? args : (config.Cmd ?? []))];
  if (argv.length === 0)
    throw new TsbuildError('RUN_NO_COMMAND', 'the image has no Entrypoint or Cmd to run', {
      hint: 'add CMD to the Dockerfile, or give the command after --run --',
    });
  return {
    args: argv,
    env: config.Env ?? [],
    cwd: config.WorkingDir || '/',
    // No USER: the runner's resolveUser('') is uid 0 even without /etc/passwd (FROM scratch), as Docker.
    user: config.User ?? '',
  };
}

/**
 * `--run`: the built image as one container at a time. `replace` stops the running one (its
 * StopSignal, then SIGKILL after the stop timeout) and starts the new image; each container gets a
 * fresh writable snapshot on the image's layer chain that goes away with it. Host network.
 */
export class AppRunner {
  private store: Store | undefined;
  private lease: LeaseHandle | undefined;
  private app: App | undefined;
  private seq = 0;

  constructor(private readonly o: AppRunnerOptions) {}

  async replace(result: BuildResult): Promise<void> {
    // Everything that can fail on the new image is done before the old container is stopped, so a
    // broken image keeps the last good app running.
    if (!this.store) this.store = await openStore(this.o.root);
    const store = this.store;
    if (!this.lease) this.lease = await store.meta.createLease({ ttlMs: 7 * 24 * 3600_000 });
    const config = result.config as ImageConfig;
    const proc = appProcess(config.config ?? {}, this.o.run.args);
    const parent = await imageRootfs(store, result.manifest as { layers: Descriptor[] }, config);
    await this.lease.addSnapshot(parent);
    await this.stop();
    const snapshot = `watch-run-${process.pid}-${this.seq++}-${randomBytes(3).toString('hex')}`;
    const mounts = await store.snapshots.prepare(snapshot, parent);
    const app: App = {
      id: `tsb-watch-${randomBytes(6).toString('hex')}`,
      snapshot,
      controller: new AbortController(),
      stopSignal: config.config?.StopSignal || 'SIGTERM',
      stopping: false,
      exited: false,
      done: Promise.resolve(),
    };
    this.app = app;
    this.o.onEvent({ type: 'app-start', containerId: app.id, digest: result.digest, at: Date.now() });
    app.done = this.runApp(app, store, mounts, proc);
  }

  private async runApp(app: App, store: Store, mounts: Mount[], proc: ReturnType<typeof appProcess>) {
    const line = (stream: 'stdout' | 'stderr') =>
      new LineSplitter((l) => this.o.onEvent({ type: 'app-output', stream, line: l, at: Date.now() }));
    const out = line('stdout');
    const err = line('stderr');
    const base = { type: 'app-exit' as const, containerId: app.id };
    const stopWatchdog = startWatchdog(detectRuntime().path, this.o.run.runtimeRoot, app.id);
    const init = this.o.run.init === false ? undefined : withInit(proc.args);
    try {
      const r = await runContainer({
        rootfs: { mounts },
        process: init ? { ...proc, args: init.args } : proc,
        ...(init ? { mounts: [init.mount] } : {}),
        root: this.o.root,
        id: app.id,
        hostname: app.id.slice(0, 12),
        network: 'host',
        signal: app.controller.signal,
        // The graceful part (StopSignal, stop timeout) is ours; an abort is the final SIGKILL.
        killGraceMs: 0,
        ...(this.o.run.runtimeRoot ? { runtimeRoot: this.o.run.runtimeRoot } : {}),
        onStdout: (c) => out.push(c),
        onStderr: (c) => err.push(c),
      });
      out.flush();
      err.flush();
      const sig = r.signal ? { signal: r.signal } : {};
      this.o.onEvent({ ...base, exitCode: r.exitCode, ...sig, stopped: app.stopping, at: Date.now() });
    } catch (error) {
      out.flush();
      err.flush();
      // RUN_CANCELLED without our abort: the runner's own Ctrl-C safety net stopped it.
      const cancelled = (error as { code?: string }).code === 'RUN_CANCELLED';
      if (app.controller.signal.aborted || cancelled)
        this.o.onEvent({ ...base, exitCode: 137, signal: 'SIGKILL', stopped: true, at: Date.now() });
      else this.o.onEvent({ type: 'app-error', error, at: Date.now() });
    } finally {
      stopWatchdog();
      app.exited = true;
      await store.snapshots.remove(app.snapshot).catch(() => undefined);
    }
  }

  /** Stops the running container, if any: StopSignal, then SIGKILL after the stop timeout. */
  async stop(): Promise<void> {
    const app = this.app;
    if (!app) return;
    this.app = undefined;
    if (!app.exited) {
      app.stopping = true;
      const sent = await this.signal(app.id, app.stopSignal);
      const timeout = this.o.run.stopTimeoutMs ?? 10_000;
      if (!sent || timeout <= 0) app.controller.abort();
      else {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([app.done, new Promise((r) => (timer = setTimeout(r, timeout)))]);
        clearTimeout(timer);
        if (!app.exited) app.controller.abort();
      }
    }
    await app.done;
  }

  /** Stops the app and lets go of the store. */
  async close(): Promise<void> {
    await this.stop();
    await this.lease?.release().catch(() => undefined);
    await this.store?.close();
    this.lease = undefined;
    this.store = undefined;
  }

  private async signal(id: string, sig: string): Promise<boolean> {
    const runtime = detectRuntime();
    const root = this.o.run.runtimeRoot ? ['--root', this.o.run.runtimeRoot] : [];
    try {
      await execFileP(runtime.path, [...root, 'kill', id, sig], { timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  }
}
