// Distribution-spec registry client: references resolve, images pull into the store, images push out.

export type { Challenge } from './auth-challenge.js';
export { parseWwwAuthenticate } from './auth-challenge.js';
export { isInsecureHost, RegistryClient, registryEndpoint } from './client.js';
export {
  authKey,
  type Credentials,
  dockerConfigDir,
  getCredentials,
  readDockerConfig,
  removeCredentials,
  storeCredentials,
} from './docker-config.js';
export { login } from './login.js';
export { fetchManifest, resolve } from './pull.js';
export { type PullHandle, pullImage, startPull } from './pull-image.js';
export { blobExists, pushImage } from './push.js';
export { RegistryError } from './registry-error.js';
export type * from './types.js';
