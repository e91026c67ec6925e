/**
 * Starts a throwaway PostgreSQL server for tests: the Debian package's
 * binaries, a fresh data directory, trust authentication on 127.0.0.1 and a
 * free port. Several can run at once. As root, every server command runs as
 * the `postgres` user, because initdb and postgres refuse to run as root.
 */
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";

/** A running test server. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:{port}/postgres`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Shuts the server down (fast mode) and removes its directory. */
  stop(): Promise<void>;
}

/** How many ports to try when another process takes the free one first. */
const PORT_ATTEMPTS = 5;

/** The newest installed PostgreSQL's bin directory (`PG_BIN` overrides). */
function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(`no PostgreSQL under ${base}: install the Debian package "postgresql" (scripts/setup does)`);
  return join(base, newest, "bin");
}

/** The server user's uid/gid when running as root; undefined otherwise (run as ourselves). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root needs the "postgres" user (created by the Debian package)');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a PostgreSQL binary (as the server user when root) and throws with its output if it fails. */
async function runAsServer(argv: string[], cwd: string): Promise<void> {
  const command = serverUser() === undefined ? argv : ["runuser", "-u", "postgres", "--", ...argv];
  const proc = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}\n${out}${err}`);
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, release it. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Starts a fresh server and waits until it accepts connections. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = tempDir("ruvector-pg-");
  const data = join(dir, "data");
  const user = serverUser();
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  try {
    await runAsServer([join(bin, "initdb"), "-D", data, "--auth=trust", "-E", "UTF8", "--locale=C", "-U", "postgres", "--no-sync"], dir);
    const port = await startOnFreePort(bin, dir, data);
    const stop = async () => {
      await runAsServer([join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], dir);
      rmSync(dir, { recursive: true, force: true });
    };
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts the server on a free port, retrying with another one if the port
 * was taken between choosing and binding (another server starting at once).
 * `pg_ctl -w` returns once the server accepts connections.
 */
async function startOnFreePort(bin: string, dir: string, data: string): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = freePort();
    // fsync off: a test server's data is thrown away, so durability only costs time.
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    try {
      await runAsServer([join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "server.log"), "-o", options, "-w", "-t", "60", "start"], dir);
      return port;
    } catch (error) {
      lastError = error;
    }
  }
  const log = existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8") : "";
  throw new Error(`PostgreSQL did not start after ${PORT_ATTEMPTS} ports: ${String(lastError)}\n${log}`);
}
