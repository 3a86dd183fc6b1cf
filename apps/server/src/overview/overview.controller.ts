import { Controller, Get, Inject } from "@nestjs/common";
import { ApiBearerAuth, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { createZodDto } from "nestjs-zod";
import { ZFleetOverviewV1, type TFleetOverviewV1 } from "@fleet/protocol";
import { Roles } from "../common/auth-metadata.js";
import { CONFIG } from "../common/config.token.js";
import type { ServerConfig } from "../common/env.js";
import { ApiAdminErrors } from "../common/error-body.dto.js";
import { onlineCutoff } from "../devices/device-status.js";
import { OverviewRepository } from "./overview.repository.js";

class FleetOverviewDto extends createZodDto(ZFleetOverviewV1) {}

const n = (v: bigint | number) => Number(v);

@ApiTags("overview")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1")
export class OverviewController {
  constructor(
    private readonly repo: OverviewRepository,
    @Inject(CONFIG) private readonly config: ServerConfig,
  ) {}

  @Roles("viewer")
  @Get("overview")
  @ApiOkResponse({ type: FleetOverviewDto, description: "devices online/offline, hardware classes, models in use, active rollouts, failing devices, open compliance violations" })
  async overview(): Promise<TFleetOverviewV1> {
    const now = new Date();
    const [counts, hw, models, rollouts, failing, violations] = await Promise.all([
      this.repo.deviceCounts(onlineCutoff(now, this.config.offlineAfterSec)),
      this.repo.hardwareClasses(),
      this.repo.modelsInUse(15),
      this.repo.activeRollouts(),
      this.repo.failingDevices(10),
      this.repo.openViolations(),
    ]);
    return {
      generatedAt: now.toISOString(),
      devices: { total: n(counts.total), online: n(counts.online), offline: n(counts.offline), neverSeen: n(counts.never), revoked: n(counts.revoked) },
      ramClasses: hw.ram.map((r) => ({ label: r.label, devices: n(r.devices) })),
      gpuClasses: hw.gpu.map((g) => ({ vendor: g.vendor, vram: g.vram, devices: n(g.devices) })),
      models: models.map((m) => ({ sha256: m.sha256, name: m.name, version: m.version, quantization: m.quantization, devices: n(m.devices) })),
      rollouts: rollouts.map((r) => ({ ...r, rings: r.rings === null ? null : n(r.rings), active: n(r.active), failed: n(r.failed), inProgress: n(r.inProgress), total: n(r.total) })),
      failing: failing.map((f) => ({ ...f, at: f.at.toISOString() })),
      violations: { devices: n(violations.devices), open: violations.byPolicy.reduce((s, p) => s + n(p.open), 0), byPolicy: violations.byPolicy.map((p) => ({ policy: p.policy, open: n(p.open) })) },
    };
  }
}
