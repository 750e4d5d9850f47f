import type { ContextSnapshot } from '../../context/index.js';
import type { ImageLayer } from '../../exporter/index.js';
import type { Platform } from '../../oci/index.js';
import type { PullResult, RegistryClient } from '../../registry/index.js';
import type { RunLimits, SshSource } from '../../runner/index.js';
import type { Store } from '../../store/index.js';

/** What ops share during one build. */
export interface SolverEnv {
  store: Store;
  root: string;
  contextDir: string;
  /** The scanned context (ignore files applied, stat cache used); scanned once, on first use. */
  context(): Promise<ContextSnapshot>;
  registry: RegistryClient;
  platform: Platform;
  /** Base images the frontend resolved, by pinned reference. */
  images: Map<string, PullResult>;
  secrets: Record<string, { src?: string; env?: string }>;
  ssh: Record<string, SshSource>;
  /** Keeps what this build makes alive against a concurrent gc. */
  retain(snapshot: string): Promise<void>;
  /** Resource limits of every RUN step. */
  limits?: RunLimits;
}

/** A solved vertex: the rootfs as a committed snapshot chain and the image layers it stands for. */
export interface SolvedFs {
  snapshot?: string;
  layers: ImageLayer[];
}
