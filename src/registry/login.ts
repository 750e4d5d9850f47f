import type { RegistryClient } from './client.js';
import { type Credentials, storeCredentials } from './docker-config.js';
import { drain } from './http.js';
import { RegistryError } from './registry-error.js';

/**
 * `docker login`: checks the credentials against the registry (ping, then `GET /v2/` with a token
 * or basic auth must succeed), then writes them to config.json or the credential helper.
 */
export async function login(
  client: RegistryClient,
  registry: string,
  creds: Credentials,
  signal?: AbortSignal,
): Promise<void> {
  const auth = client.hostAuth(registry);
  // Use exactly these credentials, not what config.json holds now.
  auth.useCredentials(creds);
  await client.ping(registry, signal);
  if (auth.challenge) {
    try {
      const res = await client.request(
        { registry },
        {
          method: 'GET',
          path: '/v2/',
          scopes: [],
          ok: [200],
          retry: true,
          what: `login to ${registry}`,
          ...(signal ? { signal } : {}),
        },
      );
      await drain(res);
    } catch (e) {
      if (e instanceof RegistryError && (e.status === 401 || e.status === 403)) {
        throw new RegistryError(
          e.status,
          'UNAUTHORIZED',
          `login to ${registry} failed: wrong user name or password`,
          {
            hint: 'check the credentials; nothing was saved',
          },
        );
      }
      throw e;
    }
  }
  await storeCredentials(registry, creds, client.options.dockerConfigDir);
}
