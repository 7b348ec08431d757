/**
 * The event catalogue: every event type a tenant can subscribe to, with the Portuguese
 * description the account API documents. The stack, the handlers, the validation schemas
 * and the OpenAPI document all read this one list.
 *
 * `fiscal` events come from producers through the events queue; `operational` events are
 * about the tenant's own webhooks (an endpoint disabled or recovered, a delivery that used
 * its last attempt) and only the product emits them (lambdas/delivery/operational-events.ts).
 */
export const EVENT_CATALOGUE = [
  { type: "invoice.authorized", kind: "fiscal", description: "NFe/NFCe autorizada na SEFAZ" },
  { type: "invoice.rejected", kind: "fiscal", description: "NFe/NFCe rejeitada" },
  { type: "invoice.canceled", kind: "fiscal", description: "NFe/NFCe cancelada" },
  { type: "mdfe.authorized", kind: "fiscal", description: "MDFe autorizado" },
  { type: "mdfe.closed", kind: "fiscal", description: "MDFe encerrado" },
  { type: "cte.authorized", kind: "fiscal", description: "CT-e autorizado" },
  { type: "cte.canceled", kind: "fiscal", description: "CT-e cancelado" },
  { type: "cte.cce", kind: "fiscal", description: "CC-e de CT-e registrada" },
  { type: "boleto.registered", kind: "fiscal", description: "Boleto registrado no banco" },
  { type: "boleto.paid", kind: "fiscal", description: "Boleto pago" },
  { type: "boleto.canceled", kind: "fiscal", description: "Boleto cancelado" },
  { type: "dfe.received", kind: "fiscal", description: "Documento fiscal recebido (DFe)" },
  { type: "certificate.expiring", kind: "fiscal", description: "Certificado digital expirando" },
  { type: "webhook.endpoint.disabled", kind: "operational", description: "Endpoint desativado por falhas contínuas ou por responder HTTP 410" },
  { type: "webhook.endpoint.recovered", kind: "operational", description: "Endpoint reativado" },
  { type: "webhook.delivery.exhausted", kind: "operational", description: "Entrega esgotou as tentativas e foi para a fila de falhas (DLQ)" },
] as const;

export type EventType = (typeof EVENT_CATALOGUE)[number]["type"];
export type EventKind = (typeof EVENT_CATALOGUE)[number]["kind"];
export type OperationalEventType = Extract<(typeof EVENT_CATALOGUE)[number], { kind: "operational" }>["type"];

export const EVENT_TYPES = EVENT_CATALOGUE.map((entry) => entry.type) as [EventType, ...EventType[]];
export const EVENT_KINDS = ["fiscal", "operational"] as const satisfies readonly EventKind[];

const OPERATIONAL = new Set<string>(EVENT_CATALOGUE.filter((entry) => entry.kind === "operational").map((entry) => entry.type));

/** Whether only the product emits events of this type (producers may not). */
export function isOperationalEventType(type: string): type is OperationalEventType {
  return OPERATIONAL.has(type);
}
