import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './net';

/** A PostgreSQL server of this test file: Debian's programs, run as `nobody` when the tests
 *  run as root (PostgreSQL refuses root), on a free loopback port, in a temporary folder. */
export interface Postgres {
  port: number;
  url: (db: string) => string;
  stop: () => void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort();
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  return path.join(root, versions[versions.length - 1], 'bin');
}

function run(program: string, args: string[]) {
  const asNobody = process.getuid?.() === 0;
  const [cmd, argv] = asNobody ? ['runuser', ['-u', 'nobody', '--', program, ...args]] : [program, args];
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${path.basename(program)} failed: ${r.stderr}`);
}

export async function startPostgres(databases: string[]): Promise<Postgres> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-pg-'));
  if (process.getuid?.() === 0) spawnSync('chown', ['nobody:nogroup', dir]);
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '-D', data]);
  const port = await freePort();
  run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', path.join(dir, 'server.log'), '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  for (const db of databases) {
    run(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', db]);
  }
  return {
    port,
    url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    stop: () => {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-w', 'stop', '-m', 'immediate']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
