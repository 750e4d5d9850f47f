import type { Platform } from '../../oci/index.js';
import type { Instruction, Stage } from '../../parser/index.js';
import type { GitOp, HttpOp, LocalContextOp, Vertex } from '../graph.js';
import type { StageImage } from './image-config.js';

/** One stage while it is dispatched (BuildKit's dispatchState). */
export interface StageState {
  stage: Stage;
  /** `AS` name, else `stage-N` (empty when the file has a single stage, as BuildKit prints). */
  name: string;
  /** Resolved base: an earlier stage, or an image/scratch. */
  base?: StageState;
  baseRef?: string;
  /** The image name as written (COPY --from=NAME finds an image state by it). */
  fromName?: string;
  /** The rootfs so far; undefined = empty (scratch). */
  vertex?: Vertex;
  image: StageImage;
  platform: Platform;
  /** The build-time environment: image Env plus ARG values, in order (llb state env). */
  env: [string, string][];
  cwd: string;
  user: string;
  /** ARGs declared so far (in order), for RUN history strings. */
  buildArgs: { key: string; value?: string }[];
  cmdIndex: number;
  cmdTotal: number;
  cmdSet: boolean;
  ignoreCache: boolean;
  dispatched: boolean;
  /** Stages this one needs (COPY --from, RUN --mount from, base). */
  deps: Set<StageState>;
  /** ONBUILD triggers of the base image's config, parsed. */
  onbuild?: Instruction[];
  /** An image named by COPY --from / --mount from= that is not a stage. */
  unregistered?: boolean;
  /** Such an image: the Dockerfile line that first names it (for its resolve error). */
  refLine?: number;
  /**
   * `--build-context NAME=DIR|<git or http(s) URL>` this state starts from (its FROM or --from names
   * it): the source op whose tree is the rootfs, and the step's progress name.
   */
  named?: { op: LocalContextOp | GitOp | HttpOp; label: string };
  /** A multi-platform build: step names start with the platform (dockerfile2llb's prefixPlatform). */
  prefixPlatform?: boolean;
}

export function envLookup(s: StageState): (name: string) => string | undefined {
  return (name) => {
    for (let i = s.env.length - 1; i >= 0; i--) {
      const e = s.env[i] as [string, string];
      if (e[0] === name) return e[1];
    }
    return undefined;
  };
}

/** llb.State.AddEnv: replaces an existing key in place, else appends. */
export function addStateEnv(s: StageState, k: string, v: string): void {
  const i = s.env.findIndex((e) => e[0] === k);
  if (i >= 0) s.env[i] = [k, v];
  else s.env.push([k, v]);
}

export function envList(s: StageState): string[] {
  return s.env.map(([k, v]) => `${k}=${v}`);
}
