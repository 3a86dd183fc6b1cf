#!/usr/bin/env node
import "reflect-metadata";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { applyMigrations, createPrismaClient } from "@fleet/db";
import { existsSync } from "node:fs";
import { serverKeySha256, ZCreateEnrollmentTokenRequestV1 } from "@fleet/protocol";
import { z } from "zod";
import { loadOrCreateServerKey } from "./common/server-key.js";
import { AuditRepository } from "./audit/audit.repository.js";
import { readVerifyKey, verifyExportFile } from "./compliance/verify-export-file.js";
import { EnvError, loadConsoleUrl, loadDataDir, loadDatabaseUrl, loadQualityConfig, loadServerKeyFile } from "./common/env.js";
import { CatalogRepository } from "./catalog/catalog.repository.js";
import { measureEntryQuality, qualityVerdict } from "./catalog/quality/measure-entry-quality.js";
import { QualityRepository } from "./catalog/quality/quality.repository.js";
import { createRootLogger } from "./common/logger.js";
import { isEntryPoint } from "./common/is-entry-point.js";
import { EnrollmentRepository } from "./enrollment/enrollment.repository.js";
import { issueEnrollmentToken } from "./enrollment/issue-token.js";
import { writeNatsAuthFiles } from "./nats/write-nats-auth-files.js";
import { TUF_ROLES, type TufRole } from "./trust/tuf-keys.js";
import { TufRepository } from "./trust/tuf.repository.js";
import { TufRepositoryService } from "./trust/tuf-repository.service.js";
import { registerUserCommands } from "./users/user-cli.js";

const ZUuid = z.uuid();

/** Exit code for bad usage (flags, environment), distinct from 1 = the command ran and failed. */
export const EXIT_USAGE = 2;

class UsageError extends Error {
  override name = "UsageError";
}

/** Thumbprint of the server's signing key if its file exists (never created here: it must be the running server's). */
async function serverKeyPin(file: string): Promise<string | null> {
  if (!existsSync(file)) return null;
  const key = await loadOrCreateServerKey(file);
  return serverKeySha256(key.publicJwk);
}

function parseTtl(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number of seconds");
  const parsed = ZCreateEnrollmentTokenRequestV1.shape.ttlSeconds.safeParse(Number(value));
  if (!parsed.success) throw new InvalidArgumentError("must be between 60 and 2592000 seconds (30 days)");
  return parsed.data;
}

export interface CliIo {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** environment to read DATABASE_URL from (default: the process environment) */
  env?: Record<string, string | undefined>;
}

export function buildCli(io: CliIo = {}): Command {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  const databaseUrl = () => {
    try {
      return loadDatabaseUrl(io.env);
    } catch (e) {
      if (e instanceof EnvError) throw new UsageError(e.message);
      throw e;
    }
  };
  const program = new Command("fleet-server")
    .description("Fleetwise control plane")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("serve")
    .description("run the server (HTTP API, websocket events, NATS report ingestion); configured by environment")
    .action(async () => {
      const { main } = await import("./main.js");
      await main();
    });

  program
    .command("migrate")
    .description("apply pending database migrations to DATABASE_URL")
    .action(async () => {
      const { applied } = await applyMigrations(databaseUrl());
      out(applied.length ? `applied ${applied.length} migration(s): ${applied.join(", ")}\n` : "database is up to date\n");
    });

  program
    .command("nats-config")
    .description("NATS decentralized auth: create the operator/account keys (once, 0600) and write the nats-server config include and the server's creds")
    .requiredOption("--keys <file>", "the NATS keys file (created if missing); the server reads it from FLEET_NATS_KEYS_FILE")
    .requiredOption("--out <file>", "nats-server config to write (operator, system account, MEMORY resolver with the accounts preloaded)")
    .option("--creds <file>", "also write the server user's creds (0600), for tools such as the nats CLI")
    .action(async (opts: { keys: string; out: string; creds?: string }) => {
      const written = await writeNatsAuthFiles({ keysFile: opts.keys, configFile: opts.out, credsFile: opts.creds });
      out(`nats-server config: ${written.configFile}\nfleet account:      ${written.accountPublicKey}\n${written.credsFile ? `server creds:       ${written.credsFile}\n` : ""}`);
    });

  const token = program.command("token").description("enrollment tokens");
  token
    .command("create")
    .description("create a one-time enrollment token (printed once; only its hash is stored)")
    .requiredOption("--ttl <seconds>", "lifetime in seconds (60 to 2592000)", parseTtl)
    .option("--note <text>", "free text stored with the token (max 500 chars)")
    .option("--json", "print JSON instead of text")
    .action(async (opts: { ttl: number; note?: string; json?: boolean }) => {
      if (opts.note !== undefined && opts.note.length > 500) throw new UsageError("--note must be at most 500 characters");
      const prisma = createPrismaClient(databaseUrl());
      try {
        const repo = new EnrollmentRepository(prisma, new AuditRepository(prisma));
        const pin = await serverKeyPin(loadServerKeyFile(io.env));
        const issued = { ...(await issueEnrollmentToken(repo, opts.ttl, opts.note, "cli")), ...(pin ? { serverKeySha256: pin } : {}) };
        const pinLine = pin ? `server key: ${pin}   (fleet-agent enroll --server-key-sha256 ${pin})\n` : "";
        out(opts.json ? `${JSON.stringify(issued)}\n` : `token:      ${issued.token}\nexpires at: ${issued.expiresAt}\nid:         ${issued.id}\n${pinLine}`);
      } finally {
        await prisma.$disconnect();
      }
    });
  registerUserCommands(program, {
    out,
    prisma: () => createPrismaClient(databaseUrl()),
    consoleUrl: () => {
      try {
        return loadConsoleUrl(io.env);
      } catch (e) {
        if (e instanceof EnvError) throw new UsageError(e.message);
        throw e;
      }
    },
  });
  const tuf = program.command("tuf").description("the catalog's TUF repository (keys in FLEET_DATA_DIR/tuf-keys)");
  tuf
    .command("rotate")
    .description("replace a role's signing key: a new root version signed by the old and new root keys, then everything the new key signs is re-signed")
    .requiredOption("--role <role>", "root | targets | snapshot | timestamp", parseTufRole)
    .action(async (opts: { role: TufRole }) => {
      const prisma = createPrismaClient(databaseUrl());
      try {
        const service = new TufRepositoryService(new TufRepository(prisma), { dataDir: loadDataDir(io.env), tufTimestampRefreshSec: 0 }, createRootLogger("silent"));
        const rotated = await service.rotate(opts.role);
        await new AuditRepository(prisma).record({ actor: "cli", action: "tuf.key_rotated", targetType: "tuf_role", targetId: opts.role, details: { ...rotated } });
        out(`rotated ${opts.role} key ${rotated.oldKeyId.slice(0, 16)}… -> ${rotated.newKeyId.slice(0, 16)}…; root is now version ${rotated.rootVersion}\n`);
      } finally {
        await prisma.$disconnect();
      }
    });
  program
    .command("catalog")
    .description("the model catalog")
    .command("quality <id>")
    .description("measure a catalog entry's quality (perplexity, top-1 agreement) against a reference variant of the same source model, in a child process, and record it (audited); the entry's own id as --reference measures it as the reference")
    .requiredOption("--reference <id>", "the reference entry (F32/F16/BF16/Q8_0 of the same source model)")
    .option("--json", "print the recorded score as JSON")
    .action(async (id: string, opts: { reference: string; json?: boolean }) => {
      for (const [flag, v] of [["<id>", id], ["--reference", opts.reference]] as const) if (!ZUuid.safeParse(v).success) throw new UsageError(`${flag} must be a catalog entry id (uuid)`);
      let quality;
      try {
        quality = loadQualityConfig(io.env);
      } catch (e) {
        if (e instanceof EnvError) throw new UsageError(e.message);
        throw e;
      }
      const prisma = createPrismaClient(databaseUrl());
      try {
        const audit = new AuditRepository(prisma);
        const entries = new CatalogRepository(prisma, audit);
        const [entry, reference] = await Promise.all([entries.get(id), entries.get(opts.reference)]);
        if (!entry) throw new Error(`catalog entry ${id} not found`);
        if (!reference) throw new Error(`reference entry ${opts.reference} not found`);
        const row = await measureEntryQuality({
          entry,
          reference,
          dataDir: loadDataDir(io.env),
          config: quality,
          actor: "cli",
          repo: new QualityRepository(prisma, audit),
          onProgress: (p) => err(`${p.phase === "reference" ? "reference" : "entry"}: ${p.done}/${p.total} tokens\n`),
        });
        const verdict = qualityVerdict(entry, row, reference, quality);
        if (opts.json) out(`${JSON.stringify({ ...row, measuredAt: row.measuredAt.toISOString(), withinMargin: verdict.ok, marginReason: verdict.reason })}\n`);
        else {
          out(`${entry.name} ${entry.version} (${entry.quantization}) against ${reference.name} ${reference.version} (${reference.quantization}), ${row.harnessVersion} on ${row.textId}, ${row.scoredTokens} tokens:\n`);
          out(`perplexity ${row.perplexity.toFixed(3)} (reference ${row.referencePerplexity.toFixed(3)}), top-1 agreement ${row.top1Agreement.toFixed(3)}\n`);
          out(verdict.ok ? "within the approval margin\n" : `beyond the approval margin: ${verdict.reason}\n`);
        }
      } finally {
        await prisma.$disconnect();
      }
    });

  program
    .command("compliance")
    .description("compliance exports")
    .command("verify <file>")
    .description("verify a signed JSON compliance export (GET /api/v1/compliance/report/signed) with the server's public key; exit 1 if it was edited or signed by another key")
    .option("--key <file>", "the server's key file (FLEET_SERVER_KEY_FILE); only its public part is used", ".fleet/server-key.json")
    .option("--jwk <jwk>", "the server's public JWK, inline JSON or a file (instead of --key)")
    .action(async (file: string, opts: { key: string; jwk?: string }) => {
      const key = await readVerifyKey(opts.jwk !== undefined ? { jwk: opts.jwk } : { keyFile: opts.key });
      const checked = await verifyExportFile(file, key);
      if (!checked.ok) throw new Error(`${file}: NOT VERIFIED (${checked.reason}): ${checked.detail}`);
      const t = checked.report.totals;
      out(`${file}: verified, signed by the server key\ngenerated ${checked.report.generatedAt}; ${t.devices} devices (${t.passing} passing, ${t.failing} failing, ${t.noData} no data), ${t.openViolations} open violations\n`);
    });
  return program;
}

function parseTufRole(value: string): TufRole {
  if (!(TUF_ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${TUF_ROLES.join(", ")}`);
  return value as TufRole;
}

/** Run the CLI and return the exit code (the process is not exited here, so tests can call it). */
export async function runCli(argv: string[], io: CliIo = {}): Promise<number> {
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  try {
    await buildCli(io).parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof UsageError) {
      err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    err(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

if (isEntryPoint(import.meta.url)) {
  const args = process.argv.slice(2);
  runCli(args).then(
    (code) => {
      // "serve" keeps running until a signal; every other command exits with its code.
      if (args[0] !== "serve" || code !== 0) process.exit(code);
    },
    (e: unknown) => {
      // runCli turns every expected failure into an exit code; anything else is a bug worth its stack
      console.error(e);
      process.exit(1);
    },
  );
}
