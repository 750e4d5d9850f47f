import { type RegistryClient, repoScope } from './client.js';
import { type Credentials, storeCredentials } from './docker-config.js';

/**
 * `docker login`: checks the credentials against the registry (ping, then a token or a basic-auth
 * request must succeed), then writes them to config.json (or the credential helper).
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
    await client
      .request(
        { registry },
        {
          method: 'GET',
          path: '/v2/',
          scopes: [repoScope('tsbuild-login-check', 'pull')].slice(0, 0),
          ok: [200],
          retry: true,
          what: `login to ${registry}`,
          ...(signal ? { signal } : {}),
        },
      )
      .then((r) => r.body.resume());
  }
  await storeCredentials(registry, creds, client.options.dockerConfigDir);
}
