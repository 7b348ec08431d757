import { ENV } from "../contract/resources.ts";
import type { AddressPolicy } from "../domain/addresses.ts";

/** The delivery address policy in force: loopback only where the local runtime says so. */
export const addressPolicy: AddressPolicy = { allowLoopback: process.env[ENV.allowLoopbackTargets] === "true" };
