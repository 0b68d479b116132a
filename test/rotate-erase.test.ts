import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { loadConfig, type Config } from "../src/config.ts";
import { openDatabase, type Database } from "../src/db/client.ts";
import { findMemberByEmail } from "../src/accounts/accounts.ts";
import { createKeyring, decryptSecret, encryptSecret, type Keyring } from "../src/crypto/encryption.ts";
import { keyFilePath, readKeyFile } from "../src/crypto/key-file.ts";
import { newId } from "../src/crypto/tokens.ts";
import { createPostgresDatabase, dialects } from "./helpers/gateway.ts";

const ROOT = join(import.meta.dir, "..");
const OWNER = { email: "ops@example.com", password: "a long enough password" };

async function run(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, "src/main.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

function configFor(env: Record<string, string>): Config {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  return loaded.config;
}

type Stored = { connectionId: string; workspaceId: string; ciphertext: string };
const binding = (s: Pick<Stored, "connectionId" | "workspaceId">) => ({ table: "credentials", column: "ciphertext", rowId: s.connectionId, workspaceId: s.workspaceId });

/** The forms an old ciphertext could be found in: the stored text, its base64 body, the raw bytes, and slices of each. */
function needles(ciphertext: string): Buffer[] {
  const body = ciphertext.split(".")[2]!;
  const raw = Buffer.from(decodeBase64(body));
  return [Buffer.from(ciphertext), Buffer.from(body), Buffer.from(body.slice(8, 40)), raw, raw.subarray(12, 36)];
}

function findIn(bytes: Buffer, ciphertexts: string[]): string[] {
  return ciphertexts.filter((c) => needles(c).some((needle) => bytes.includes(needle)));
}

for (const dialect of dialects) {
  describe(`rotate-key on ${dialect}`, () => {
    const drops: (() => Promise<void>)[] = [];
    const dirs: string[] = [];
    afterAll(async () => {
      for (const drop of drops) await drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    /** Every byte the database keeps: the SQLite file, its WAL and shared memory; Postgres's pages of the sealed tables. */
    async function databaseBytes(env: Record<string, string>): Promise<Buffer> {
      if (dialect === "sqlite") {
        const path = join(env.DATA_DIR!, "gateway.db");
        return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
      }
      const sql = new SQL(env.DATABASE_URL!, { max: 1 });
      try {
        await sql`create extension if not exists pageinspect`;
        const pages: Buffer[] = [];
        for (const table of ["credentials", "member_credentials", "oauth_flows", "sso_refresh_tokens"]) {
          const [{ n }] = await sql`select pg_relation_size(${table}::regclass) / current_setting('block_size')::int as n`;
          for (let page = 0; page < Number(n); page++) {
            const [row] = await sql`select get_raw_page(${table}, ${page}::int) as bytes`;
            pages.push(Buffer.from(row.bytes as Uint8Array));
          }
        }
        return Buffer.concat(pages);
      } finally {
        await sql.close();
      }
    }

    async function storeCredentials(database: Database, keyring: Keyring, workspaceId: string, n: number): Promise<Stored[]> {
      const stored: Stored[] = [];
      for (let i = 0; i < n; i++) {
        const connectionId = newId();
        const now = Date.now();
        await database.db.insert(database.t.connections).values({ id: connectionId, workspaceId, name: `upstream-${i}-${connectionId.slice(0, 6)}`, url: "https://mcp.example.com/mcp", authKind: "bearer", status: "connected", createdAt: now, updatedAt: now });
        const sealed = await encryptSecret(keyring, `upstream-token-${i}-${newId()}`, binding({ connectionId, workspaceId }));
        await database.db.insert(database.t.credentials).values({ connectionId, workspaceId, kind: "bearer", ...sealed, updatedAt: now });
        stored.push({ connectionId, workspaceId, ciphertext: sealed.ciphertext });
      }
      return stored;
    }

    async function currentCiphertexts(env: Record<string, string>): Promise<Stored[]> {
      const database = await openDatabase(configFor(env).database);
      try {
        return (await database.db.select().from(database.t.credentials)).map((r) => ({ connectionId: r.connectionId, workspaceId: r.workspaceId, ciphertext: r.ciphertext }));
      } finally {
        await database.close();
      }
    }

    test("leaves no old-key ciphertext in the database's files, with the key file and with GATEWAY_ENCRYPTION_KEY", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "mgw-rotate-"));
      dirs.push(dataDir);
      let env: Record<string, string> = { DATA_DIR: dataDir };
      if (dialect === "postgres") {
        const created = await createPostgresDatabase();
        drops.push(created.drop);
        env = { ...env, DATABASE_URL: created.url };
      }
      expect((await run(["setup", "--email", OWNER.email, "--password-stdin"], env, `${OWNER.password}\n`)).code).toBe(0);
      const [fileKey] = readKeyFile(keyFilePath(dataDir));
      const database = await openDatabase(configFor(env).database);
      try {
        const { workspaceId } = (await findMemberByEmail(database, OWNER.email))!;
        await storeCredentials(database, await createKeyring(fileKey!), workspaceId, 40);
      } finally {
        await database.close();
      }

      // The key-file route.
      const sealedWithFileKey = (await currentCiphertexts(env)).map((s) => s.ciphertext);
      expect(findIn(await databaseBytes(env), sealedWithFileKey)).toHaveLength(sealedWithFileKey.length); // the scan finds what is there
      const rotated = await run(["rotate-key"], env);
      expect(rotated.code).toBe(0);
      expect(findIn(await databaseBytes(env), sealedWithFileKey)).toEqual([]);
      const [newFileKey] = readKeyFile(keyFilePath(dataDir));
      const afterFile = await currentCiphertexts(env);
      for (const s of afterFile) {
        expect(await decryptSecret(await createKeyring(newFileKey!), s.ciphertext, binding(s))).toStartWith("upstream-token-");
        await expect(decryptSecret(await createKeyring(fileKey!), s.ciphertext, binding(s))).rejects.toThrow();
      }

      // The GATEWAY_ENCRYPTION_KEY route: the file's key becomes the previous one.
      const envKey = crypto.getRandomValues(new Uint8Array(32));
      const withEnv = { ...env, GATEWAY_ENCRYPTION_KEY: encodeBase64(envKey), GATEWAY_ENCRYPTION_KEY_PREVIOUS: encodeBase64(newFileKey!) };
      const sealedWithPrevious = afterFile.map((s) => s.ciphertext);
      const rewrapped = await run(["rotate-key"], withEnv);
      expect(rewrapped.code).toBe(0);
      expect(findIn(await databaseBytes(env), sealedWithPrevious)).toEqual([]);
      for (const s of await currentCiphertexts(withEnv)) {
        expect(await decryptSecret(await createKeyring(envKey), s.ciphertext, binding(s))).toStartWith("upstream-token-");
        await expect(decryptSecret(await createKeyring(newFileKey!), s.ciphertext, binding(s))).rejects.toThrow();
      }
    });
  });
}
