import { Module } from "@nestjs/common";
import { EventsGateway } from "./events.gateway.js";
import { FleetEventRelay } from "./fleet-event-relay.js";

@Module({ providers: [EventsGateway, FleetEventRelay], exports: [FleetEventRelay] })
export class EventsModule {}
