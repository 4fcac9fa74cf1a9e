import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../store/open.js';

/** A loopback HTTP server that answers every request with `answer` and records the requests' paths and Authorization headers. */
async function recordingServer(answer: (path: string) => { status: number; body: string }): Promise<{ server: Server; url: string; seen: { path: string; authorization: string | undefined }[] }> {
  const seen: { path: string; authorization: string | undefined }[] = [];
  const server = createServer((request, response) => {
    seen.push({ path: request.url ?? '/', authorization: request.headers.authorization });
    const { status, body } = answer(request.url ?? '/');
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('S3 credentials of a container (EKS Pod Identity, ECS task roles)', () => {
  let credentials: Awaited<ReturnType<typeof recordingServer>>;
  let s3: Awaited<ReturnType<typeof recordingServer>>;
  const saved = { ...process.env };
  before(async () => {
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    credentials = await recordingServer(() => ({ status: 200, body: JSON.stringify({ AccessKeyId: 'ASIAPODIDENTITY', SecretAccessKey: 'pod-secret', Token: 'pod-token', Expiration: expiration }) }));
    s3 = await recordingServer(() => ({ status: 404, body: '' }));
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${credentials.url}/v1/credentials`;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'agent-token';
  });
  after(async () => {
    process.env = saved;
    await Promise.all([credentials, s3].map(({ server }) => new Promise((resolve) => server.close(resolve))));
  });

  it('sign requests with the credentials the container endpoint gives, rather than send them anonymously', async () => {
    const store = openStore('s3://hrrr-embed-state', { endpoint: s3.url, region: 'us-east-1', retry: { attempts: 1 } });
    assert.equal(await store.head('progress/run.json'), undefined, 'no such object');
    assert.ok(credentials.seen.length > 0, 'the container credentials endpoint was asked');
    assert.ok(s3.seen.length > 0);
    for (const { authorization } of s3.seen) assert.match(authorization ?? 'anonymous', /Credential=ASIAPODIDENTITY\//);
  });
});
