// The runner's public surface: run one process in an isolated container (runc), resolve users and
// RUN --mount specs, create WORKDIRs. Others import only from here.
export { bundleRoot } from './bundle-dir.js';
export { type CgroupVersion, detectCgroupVersion } from './cgroups.js';
export { RunnerError, RunStepError, type RunStepErrorDetails } from './errors.js';
export {
  MAX_SECRET_BYTES,
  type ResolvedRunMounts,
  type RunMountContext,
  type RunMountSpec,
  type RunSecretSource,
  resolveRunMounts,
} from './mounts.js';
export { DEFAULT_HOSTNAME, runContainer } from './run-container.js';
export { type RunStepOptions, runStep, type SnapshotterLike } from './run-step.js';
export { containerStarts } from './runc.js';
export { detectRuntime, type OciRuntime } from './runtime.js';
export {
  buildSpec,
  capabilitiesOf,
  DEFAULT_CAPABILITIES,
  processEnv,
  type RuntimeSpec,
  type RuntimeSpecInput,
} from './spec.js';
export { loadSshSource, type SshSource } from './ssh-agent.js';
export { sshAgentProxy } from './ssh-proxy.js';
export type {
  ContainerMount,
  ResolvedUser,
  Rlimit,
  RootfsSource,
  RunContainerOptions,
  RunLimits,
  RunNetwork,
  RunProcess,
  RunResult,
} from './types.js';
export { resolveUser, resolveUserFromFiles } from './user.js';
export { ensureWorkdir } from './workdir.js';
