import { Controller, Get, Header, Res } from "@nestjs/common";
import { ApiExcludeEndpoint, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from "@nestjs/swagger";
import { Public } from "../common/auth-metadata.js";
import { MetricsService } from "../common/metrics.service.js";
import { HealthService, type HealthReport } from "./health.service.js";

interface StatusResponse {
  status(code: number): StatusResponse;
  json(body: unknown): void;
  setHeader(name: string, value: string): void;
  send(body: string): void;
}

@ApiTags("ops")
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  @Get("health")
  @ApiOkResponse({ description: "database and NATS reachable" })
  @ApiServiceUnavailableResponse({ description: "database or NATS down" })
  async check(@Res() res: StatusResponse): Promise<void> {
    const report: HealthReport = await this.health.check();
    res.status(report.status === "ok" ? 200 : 503).json(report);
  }

  @Get("metrics")
  @ApiExcludeEndpoint()
  @Header("Cache-Control", "no-store")
  async prometheus(@Res() res: StatusResponse): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    res.setHeader("Content-Type", contentType);
    res.status(200).send(body);
  }
}
