import { InvalidArgumentError, type Command } from "commander";
import type { PrismaClient } from "@fleet/db";
import { ZCreateUserRequestV1, ZUserRole, type TUserRole } from "@fleet/protocol";
import { UsersRepository } from "./users.repository.js";
import { UsersService } from "./users.service.js";

export interface UserCliDeps {
  out: (s: string) => void;
  /** a new client on DATABASE_URL (created by the CLI, the composition root) */
  prisma: () => PrismaClient;
  consoleUrl: () => string;
}

function parseRole(value: string): TUserRole {
  const r = ZUserRole.safeParse(value);
  if (!r.success) throw new InvalidArgumentError("must be admin, operator or viewer");
  return r.data;
}

function parseEmail(value: string): string {
  const r = ZCreateUserRequestV1.shape.email.safeParse(value);
  if (!r.success) throw new InvalidArgumentError("must be an email address");
  return r.data;
}

async function withUsers<T>(deps: UserCliDeps, fn: (users: UsersService) => Promise<T>): Promise<T> {
  const prisma = deps.prisma();
  try {
    return await fn(new UsersService(new UsersRepository(prisma), { auth: { consoleUrl: deps.consoleUrl() } }));
  } finally {
    await prisma.$disconnect();
  }
}

/** `fleet-server user create | list | setup-link`: console users, straight on the database (no running server needed). */
export function registerUserCommands(program: Command, deps: UserCliDeps): void {
  const user = program.command("user").description("console users (sign-in and roles)");
  user
    .command("create")
    .description("create a console user and print its one-time setup link (valid 24 h; FLEET_CONSOLE_URL is its base)")
    .requiredOption("--email <email>", "the user's email (their sign-in name)", parseEmail)
    .requiredOption("--role <role>", "admin, operator or viewer", parseRole)
    .option("--name <name>", "display name")
    .option("--if-no-users", "create only when the database has no user yet (first start)")
    .option("--json", "print JSON instead of text")
    .action(async (opts: { email: string; role: TUserRole; name?: string; ifNoUsers?: boolean; json?: boolean }) => {
      if (opts.name !== undefined && (opts.name.trim() === "" || opts.name.length > 200)) throw new InvalidArgumentError("--name must be 1-200 characters");
      await withUsers(deps, async (users) => {
        if (opts.ifNoUsers && (await users.list()).length > 0) {
          deps.out(opts.json ? `${JSON.stringify({ created: false })}\n` : "users exist already; none created\n");
          return;
        }
        const created = await users.create({ email: opts.email, role: opts.role, name: opts.name }, "cli");
        deps.out(
          opts.json
            ? `${JSON.stringify({ created: true, ...created })}\n`
            : `user:       ${created.user.email} (${created.user.role})\nsetup link: ${created.setupUrl}\n            (one-time, valid 24 hours: open it to set the password)\n`,
        );
      });
    });
  user
    .command("setup-link")
    .description("print a new one-time setup link for an existing user (e.g. a lost or expired one)")
    .requiredOption("--email <email>", "the user's email", parseEmail)
    .action(async (opts: { email: string }) => {
      await withUsers(deps, async (users) => deps.out(`setup link: ${await users.newSetupLink(opts.email)}\n`));
    });
  user
    .command("list")
    .description("list console users")
    .option("--json", "print JSON instead of text")
    .action(async (opts: { json?: boolean }) => {
      await withUsers(deps, async (users) => {
        const list = await users.list();
        if (opts.json) return deps.out(`${JSON.stringify({ items: list })}\n`);
        if (list.length === 0) return deps.out("no users\n");
        for (const u of list) {
          const state = u.disabled ? "disabled" : u.signIn === "oidc" ? "oidc" : u.passwordSet ? "active" : "setup pending";
          deps.out(`${u.email.padEnd(32)} ${u.role.padEnd(9)} ${state.padEnd(14)} last sign-in ${u.lastLoginAt ?? "never"}\n`);
        }
      });
    });
}
