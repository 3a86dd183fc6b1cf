import { createZodDto } from "nestjs-zod";
import { ZCreatedUserV1, ZCreateUserRequestV1, ZUpdateUserRequestV1, ZUserDetailV1, ZUserListV1 } from "@fleet/protocol";

export class CreateUserDto extends createZodDto(ZCreateUserRequestV1) {}
export class CreatedUserDto extends createZodDto(ZCreatedUserV1) {}
export class UpdateUserDto extends createZodDto(ZUpdateUserRequestV1) {}
export class UserDetailDto extends createZodDto(ZUserDetailV1) {}
export class UserListDto extends createZodDto(ZUserListV1) {}
