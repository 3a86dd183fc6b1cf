import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Req } from "@nestjs/common";
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from "@nestjs/swagger";
import { Roles } from "../common/auth-metadata.js";
import { ApiAdminErrors, ErrorBodyDto } from "../common/error-body.dto.js";
import type { RequestWithPrincipal } from "../auth/principal.js";
import { CreatedUserDto, CreateUserDto, UpdateUserDto, UserDetailDto, UserListDto } from "./users.dto.js";
import { UsersService } from "./users.service.js";

const uuid = new ParseUUIDPipe({ version: "4" });

@ApiTags("users")
@ApiBearerAuth()
@ApiAdminErrors()
@Roles("admin")
@Controller("api/v1/users")
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Roles("admin")
  @ApiOkResponse({ type: UserListDto })
  async list(): Promise<UserListDto> {
    return { items: await this.users.list() };
  }

  @Post()
  @Roles("admin")
  @ApiCreatedResponse({ type: CreatedUserDto, description: "the user and its one-time setup link (valid 24 h), shown once" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: a user with this email exists" })
  create(@Body() body: CreateUserDto, @Req() req: RequestWithPrincipal): Promise<CreatedUserDto> {
    return this.users.create(body, req.principal!.actor);
  }

  @Patch(":id")
  @Roles("admin")
  @ApiOkResponse({ type: UserDetailDto, description: "updated; the user's open sessions are revoked" })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: "not_found: no such user" })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "conflict: this would leave no active admin" })
  update(@Param("id", uuid) id: string, @Body() body: UpdateUserDto, @Req() req: RequestWithPrincipal): Promise<UserDetailDto> {
    return this.users.update(id, body, req.principal!.actor);
  }
}
