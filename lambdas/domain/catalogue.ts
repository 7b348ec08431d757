/**
 * The fiscal event catalogue: every event type a tenant can subscribe to, with the
 * Portuguese description the account API documents. The stack, the handlers, the
 * validation schemas and the OpenAPI document all read this one list.
 */
export const EVENT_CATALOGUE = [
  { type: "invoice.authorized", description: "NFe/NFCe autorizada na SEFAZ" },
  { type: "invoice.rejected", description: "NFe/NFCe rejeitada" },
  { type: "invoice.canceled", description: "NFe/NFCe cancelada" },
  { type: "mdfe.authorized", description: "MDFe autorizado" },
  { type: "mdfe.closed", description: "MDFe encerrado" },
  { type: "cte.authorized", description: "CT-e autorizado" },
  { type: "cte.canceled", description: "CT-e cancelado" },
  { type: "cte.cce", description: "CC-e de CT-e registrada" },
  { type: "boleto.registered", description: "Boleto registrado no banco" },
  { type: "boleto.paid", description: "Boleto pago" },
  { type: "boleto.canceled", description: "Boleto cancelado" },
  { type: "dfe.received", description: "Documento fiscal recebido (DFe)" },
  { type: "certificate.expiring", description: "Certificado digital expirando" },
] as const;

export type EventType = (typeof EVENT_CATALOGUE)[number]["type"];

export const EVENT_TYPES = EVENT_CATALOGUE.map((entry) => entry.type) as [EventType, ...EventType[]];
