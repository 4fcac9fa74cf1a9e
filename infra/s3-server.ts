import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Store, type S3StoreConfig } from '../store/s3.js';

/** The repository root (this runs compiled, from dist/infra/). */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const testCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A real S3-compatible server (moto, started by infra/s3-server.sh) on a free loopback port, for tests and benchmarks. */
export class S3Server {
  /** Resolves when the server's process has ended, by an exit code or a signal, whenever that was. */
  private readonly exited: Promise<void>;

  private constructor(
    readonly endpoint: string,
    private readonly server: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => server.once('exit', () => resolve()));
    // A process that ends without stop() (process.exit, a signal turned into one) must not leave moto behind.
    const killOnExit = () => server.kill('SIGKILL');
    process.once('exit', killOnExit);
    void this.exited.then(() => process.off('exit', killOnExit));
  }

  static async start(): Promise<S3Server> {
    const port = await freePort();
    const script = join(repoRoot, 'infra', 's3-server.sh');
    const child = spawn(script, [String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    // A script that cannot be run (missing, not executable) is an 'error' event, which unheard would crash the process.
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    const server = new S3Server(`http://127.0.0.1:${port}`, child);
    const client = server.client();
    try {
      // Ready when it answers an S3 request, not after a guessed sleep.
      for (let tries = 0; ; tries++) {
        if (spawnError) throw new Error(`cannot start the S3 server (${script}): ${spawnError.message}`);
        if (child.exitCode !== null) throw new Error(`the S3 server exited with ${child.exitCode}: ${stderr}`);
        try {
          await client.send(new ListBucketsCommand({}));
          break;
        } catch (error) {
          if (tries >= 300) throw new Error(`the S3 server did not answer within 30 s: ${(error as Error).message}\n${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.destroy();
    }
    return server;
  }

  client(): S3Client {
    return new S3Client({ region: 'us-east-1', endpoint: this.endpoint, forcePathStyle: true, credentials: testCredentials });
  }

  async createBucket(bucket: string): Promise<void> {
    const client = this.client();
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
  }

  /** A store on a new bucket of this server (or, with `endpoint`, reached through another address such as a proxy). */
  async store(bucket: string, config: Partial<S3StoreConfig> = {}): Promise<S3Store> {
    await this.createBucket(bucket);
    return new S3Store({ bucket, endpoint: this.endpoint, forcePathStyle: true, credentials: testCredentials, ...config });
  }

  async stop(): Promise<void> {
    this.server.kill('SIGTERM');
    await this.exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
