import { Controller, Get } from "@nestjs/common";
import { ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { Public } from "../common/auth-metadata.js";

/** What `GET /` and `GET /api/v1` answer: where to go from here (the start script prints both URLs). */
export interface ApiIndex {
  name: string;
  apiVersion: "v1";
  api: string;
  docs: string;
  openapi: string;
  health: string;
  metrics: string;
}

const INDEX: ApiIndex = {
  name: "Fleetwise control plane",
  apiVersion: "v1",
  api: "/api/v1",
  docs: "/api/docs",
  openapi: "/api/openapi.json",
  health: "/health",
  metrics: "/metrics",
};

@ApiTags("ops")
@Public()
@Controller()
export class ApiIndexController {
  @Get()
  @ApiOkResponse({ description: "the API version and where its docs, health and metrics are" })
  root(): ApiIndex {
    return INDEX;
  }

  @Get("api/v1")
  @ApiOkResponse({ description: "the API version and where its docs, health and metrics are" })
  v1(): ApiIndex {
    return INDEX;
  }
}
