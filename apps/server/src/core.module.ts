import { Global, Module, type DynamicModule } from "@nestjs/common";
import type { Logger } from "pino";
import { CONFIG, LOGGER, NATS_AUTHORITY, PRISMA, SERVER_KEY } from "./common/config.token.js";
import type { ServerConfig } from "./common/env.js";
import { IngestBacklog } from "./common/ingest-backlog.js";
import { MetricsService } from "./common/metrics.service.js";
import type { Db } from "./common/prisma.js";
import type { ServerKey } from "./common/server-key.js";
import { FleetEventBus } from "./events/fleet-events.js";
import type { NatsAuthority } from "./nats/nats-authority.js";
import { NatsService } from "./nats/nats.service.js";

export interface CoreDeps {
  config: ServerConfig;
  log: Logger;
  prisma: Db;
  nats: NatsService;
  serverKey: ServerKey;
  /** null = NATS without decentralized auth */
  natsAuthority: NatsAuthority | null;
}

/** Things created before Nest starts (connections, keys, config), shared by every domain module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(deps: CoreDeps): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: deps.config },
      { provide: LOGGER, useValue: deps.log },
      { provide: PRISMA, useValue: deps.prisma },
      { provide: SERVER_KEY, useValue: deps.serverKey },
      { provide: NATS_AUTHORITY, useValue: deps.natsAuthority },
      { provide: NatsService, useValue: deps.nats },
      MetricsService,
      IngestBacklog,
      FleetEventBus,
    ];
    return { module: CoreModule, providers, exports: [CONFIG, LOGGER, PRISMA, SERVER_KEY, NATS_AUTHORITY, NatsService, MetricsService, IngestBacklog, FleetEventBus] };
  }
}
