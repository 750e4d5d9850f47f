/**
 * The names a build looks for in the context when no `-f` is given, in order: docker/cli's default,
 * its lowercase fallback (docker/cli and BuildKit's dockerui take `dockerfile` when there is no
 * `Dockerfile`), then Podman's. The build, `parse`, `watch` and the no-op records agree on it.
 */
export const DOCKERFILE_NAMES = ['Dockerfile', 'dockerfile', 'Containerfile'] as const;
