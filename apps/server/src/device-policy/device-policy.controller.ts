import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from "@nestjs/common";
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { Roles } from "../common/auth-metadata.js";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import type { RequestWithPrincipal } from "../auth/principal.js";
import { DevicePolicyParamDto, DevicePolicySettingsInputDto, DevicePolicyViewDto, RemoteFallbackConsentInputDto } from "./device-policy.dto.js";
import { DevicePolicyService } from "./device-policy.service.js";

// Mutations are admin-only (contract 1); the actor (audit, consent's grantedBy) is the signed-in user or "admin".
const actorOf = (req: RequestWithPrincipal) => req.principal?.actor ?? "admin";

@ApiTags("device-policy")
@ApiBearerAuth()
@ApiAdminErrors()
@Controller("api/v1")
export class DevicePolicyController {
  constructor(private readonly policies: DevicePolicyService) {}

  @Get("policies/device")
  @ApiOperation({ summary: "The fleet default device policy (privacy: telemetry, remote fallback; resources)" })
  @ApiOkResponse({ type: DevicePolicyViewDto })
  fleetDefault(): Promise<DevicePolicyViewDto> {
    return this.policies.fleetDefault();
  }

  @Roles("admin")
  @Put("policies/device")
  @ApiOperation({ summary: "Replace the fleet default; every active device without an override gets a newly signed policy" })
  @ApiOkResponse({ type: DevicePolicyViewDto })
  setFleetDefault(@Body() body: DevicePolicySettingsInputDto, @Req() req: RequestWithPrincipal): Promise<DevicePolicyViewDto> {
    return this.policies.setFleetDefault(body, actorOf(req));
  }

  @Get("devices/:id/policy")
  @ApiOperation({ summary: "A device's effective policy, where it comes from (default, fleet, device) and the last one signed for it" })
  @ApiOkResponse({ type: DevicePolicyViewDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  forDevice(@Param() p: DevicePolicyParamDto): Promise<DevicePolicyViewDto> {
    return this.policies.forDevice(p.id);
  }

  @Roles("admin")
  @Put("devices/:id/policy")
  @ApiOperation({ summary: "Set a device's override; the device gets a newly signed policy" })
  @ApiOkResponse({ type: DevicePolicyViewDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  setOverride(@Param() p: DevicePolicyParamDto, @Body() body: DevicePolicySettingsInputDto, @Req() req: RequestWithPrincipal): Promise<DevicePolicyViewDto> {
    return this.policies.setOverride(p.id, body, actorOf(req));
  }

  @Roles("admin")
  @Delete("devices/:id/policy")
  @ApiOperation({ summary: "Remove a device's override (it follows the fleet default again)" })
  @ApiOkResponse({ type: DevicePolicyViewDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  clearOverride(@Param() p: DevicePolicyParamDto, @Req() req: RequestWithPrincipal): Promise<DevicePolicyViewDto> {
    return this.policies.clearOverride(p.id, actorOf(req));
  }

  @Roles("admin")
  @Post("devices/:id/policy/consent")
  @HttpCode(200)
  @ApiOperation({ summary: "Record (granted=true) or withdraw remote fallback consent for a device: who and when, audited, shipped in its signed policy" })
  @ApiOkResponse({ type: DevicePolicyViewDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such device" })
  consent(@Param() p: DevicePolicyParamDto, @Body() body: RemoteFallbackConsentInputDto, @Req() req: RequestWithPrincipal): Promise<DevicePolicyViewDto> {
    return this.policies.recordConsent(p.id, body.granted, actorOf(req));
  }
}
