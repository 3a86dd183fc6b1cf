import { Global, Module } from "@nestjs/common";
import { UsersModule } from "../users/users.module.js";
import { AuthController } from "./auth.controller.js";
import { AuthGuard } from "./auth.guard.js";
import { AuthService } from "./auth.service.js";
import { LoginThrottleRepository } from "./login-throttle.repository.js";
import { LoginThrottleService } from "./login-throttle.service.js";
import { SessionService } from "./session.service.js";
import { SessionsRepository } from "./sessions.repository.js";
import { OidcService } from "./oidc.service.js";
import { OidcTransactionsRepository } from "./oidc-transactions.repository.js";

/** Sign-in, sessions and the global AuthGuard's dependencies; global so the websocket gateway can check sessions. */
@Global()
@Module({
  imports: [UsersModule],
  controllers: [AuthController],
  providers: [SessionsRepository, SessionService, LoginThrottleRepository, LoginThrottleService, AuthService, AuthGuard, OidcTransactionsRepository, OidcService],
  exports: [SessionService, AuthGuard],
})
export class AuthModule {}
