import { request as httpRequest } from "node:http";

/** A request fetch cannot make: a GET with a body, as the Portal's falhas search sends it (a string is sent as it is). */
export async function requestWithBody(url: string, method: string, token: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

/** Reads a problem+json answer, checking status and media type. */
export async function problemOf(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  if (response.headers.get("content-type") !== "application/problem+json") {
    throw new Error(`expected application/problem+json, got ${response.headers.get("content-type")}: ${text}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}
