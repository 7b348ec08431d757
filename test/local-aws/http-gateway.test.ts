import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { formatRequestTime } from "../../lib/local-aws/http-api/events.ts";
import type { GatewayFailure } from "../../lib/local-aws/http-api/handler.ts";
import { compileRoutes, matchRoute, type GatewayRoute } from "../../lib/local-aws/http-api/routes.ts";
import {
  parseRequestTarget,
  startHttpGateway,
  type HttpGateway,
  type HttpGatewayOptions,
} from "../../lib/local-aws/http-api/server.ts";
import type { LambdaInvoker } from "../../lib/local-aws/lambda/lambda-host.ts";

/** Stands in for the Lambda host: records every event and answers with programmed handlers. */
class RecordingInvoker implements LambdaInvoker {
  readonly calls: { functionId: string; event: any }[] = [];
  private readonly handlers = new Map<string, (event: any) => unknown>();

  on(functionId: string, handler: (event: any) => unknown): this {
    this.handlers.set(functionId, handler);
    return this;
  }

  async invoke(functionId: string, event: unknown): Promise<unknown> {
    this.calls.push({ functionId, event });
    const handler = this.handlers.get(functionId);
    if (!handler) throw new Error(`no handler for ${functionId}`);
    return handler(event);
  }

  eventsOf(functionId: string): any[] {
    return this.calls.filter((call) => call.functionId === functionId).map((call) => call.event);
  }
}

const API = { apiId: "abc123", region: "sa-east-1", accountId: "123456789012" };
const gateways: HttpGateway[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

async function start(
  routes: readonly GatewayRoute[],
  invoker: LambdaInvoker,
  extra: Partial<HttpGatewayOptions> = {},
): Promise<HttpGateway> {
  const gateway = await startHttpGateway({ routes, invoker, port: 0, ...API, ...extra });
  gateways.push(gateway);
  return gateway;
}

/** A node:http request, for what fetch cannot send: repeated header lines. */
function rawRequest(
  url: string,
  path: string,
  rawHeaders: string[],
): Promise<{ status: number; body: string }> {
  // With raw headers Node adds no Host header itself, and HTTP/1.1 requires one.
  const headers = ["Host", new URL(url).host, ...rawHeaders];
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

const echo = () => ({ statusCode: 200, body: "ok" });

/** A gateway with one route to the function "fn". */
async function oneRoute(
  routeKey: string,
  handler: (event: any) => unknown = echo,
  extra: Partial<HttpGatewayOptions> = {},
): Promise<{ invoker: RecordingInvoker; gateway: HttpGateway }> {
  const invoker = new RecordingInvoker().on("fn", handler);
  return { invoker, gateway: await start([{ routeKey, functionId: "fn" }], invoker, extra) };
}

/** The gateway's own error answer, with AWS's body. */
async function expectGatewayError(response: Response, status: number, message: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(await response.text()).toBe(JSON.stringify({ message }));
}

describe("route selection", () => {
  const table = compileRoutes([
    { routeKey: "GET /items", functionId: "items" },
    { routeKey: "GET /items/special", functionId: "literal" },
    { routeKey: "GET /items/{id}", functionId: "param" },
    { routeKey: "ANY /items/{id}", functionId: "param-any" },
    { routeKey: "ANY /items/{proxy+}", functionId: "proxy" },
    { routeKey: "GET /{a}/{b}/{c}", functionId: "three-params" },
    { routeKey: "GET /items/x/{proxy+}", functionId: "deeper-proxy" },
    { routeKey: "$default", functionId: "default" },
  ]);
  const target = (method: string, path: string) => matchRoute(table, method, path)?.route.functionId;

  it("prefers literal segments, then variables, then greedy variables, then $default", () => {
    expect(target("GET", "/items/special")).toBe("literal");
    expect(target("GET", "/items/42")).toBe("param");
    expect(target("GET", "/items/a/b/c/d")).toBe("proxy");
    expect(target("GET", "/elsewhere")).toBe("default");
  });

  it("prefers an explicit method over ANY, and ANY over nothing", () => {
    expect(target("GET", "/items/42")).toBe("param");
    expect(target("DELETE", "/items/42")).toBe("param-any");
    expect(target("POST", "/items")).toBe("default");
  });

  it("prefers a full match over a greedy one, and the longer greedy prefix among greedy ones", () => {
    // /{a}/{b}/{c} has no literal segment but matches fully; the greedy routes only through {proxy+}.
    expect(target("GET", "/items/x/y")).toBe("three-params");
    expect(target("GET", "/items/x/y/z")).toBe("deeper-proxy");
  });

  it("keeps a trailing slash significant and never matches empty variables", () => {
    expect(target("GET", "/items")).toBe("items");
    expect(target("GET", "/items/")).toBe("default");
  });

  it("returns the path parameters, and none for literal routes", () => {
    expect(matchRoute(table, "GET", "/items/42")?.pathParameters).toEqual({ id: "42" });
    expect(matchRoute(table, "PUT", "/items/a/b")?.pathParameters).toEqual({ proxy: "a/b" });
    expect(matchRoute(table, "GET", "/items/special")).not.toHaveProperty("pathParameters");
  });

  it("finds nothing without a $default route", () => {
    expect(matchRoute(compileRoutes([{ routeKey: "GET /a", functionId: "a" }]), "GET", "/b")).toBeUndefined();
  });

  it("rejects route tables AWS would not deploy", () => {
    expect(() => compileRoutes([{ routeKey: "GET /a/{proxy+}/b", functionId: "f" }])).toThrow(/greedy/);
    expect(() => compileRoutes([{ routeKey: "FETCH /a", functionId: "f" }])).toThrow(/Unsupported route key/);
    expect(() =>
      compileRoutes([
        { routeKey: "GET /a", functionId: "f" },
        { routeKey: "GET /a", functionId: "g" },
      ]),
    ).toThrow(/Duplicate/);
  });

  it("decodes the request path as HTTP APIs do, and rejects what cannot be decoded", () => {
    expect(parseRequestTarget("/a/caf%C3%A9%2Fb?x=%20")).toEqual({ path: "/a/café/b", rawQueryString: "x=%20" });
    expect(parseRequestTarget("/a/%zz")).toBeUndefined();
    expect(parseRequestTarget("*")).toBeUndefined();
  });
});

describe("integration event", () => {
  it("builds the payload 2.0 event as AWS does", async () => {
    const { invoker, gateway } = await oneRoute("POST /webhooks/{id}");
    const response = await fetch(`${gateway.url}/webhooks/w%201?b=2`, {
      method: "POST",
      headers: { "content-type": "application/json", "User-Agent": "tests/1.0", "X-Custom": "Yes" },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    const [event] = invoker.eventsOf("fn");
    const port = new URL(gateway.url).port;
    expect(event).toStrictEqual({
      version: "2.0",
      routeKey: "POST /webhooks/{id}",
      rawPath: "/webhooks/w 1",
      rawQueryString: "b=2",
      headers: expect.objectContaining({
        "content-type": "application/json",
        "user-agent": "tests/1.0",
        "x-custom": "Yes",
        host: `127.0.0.1:${port}`,
        "content-length": "7",
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-port": port,
        "x-forwarded-proto": "http",
      }),
      queryStringParameters: { b: "2" },
      requestContext: {
        accountId: API.accountId,
        apiId: API.apiId,
        domainName: `127.0.0.1:${port}`,
        domainPrefix: "127",
        http: {
          method: "POST",
          path: "/webhooks/w 1",
          protocol: "HTTP/1.1",
          sourceIp: "127.0.0.1",
          userAgent: "tests/1.0",
        },
        requestId: expect.stringMatching(/^[A-Za-z0-9+/]{15}=$/),
        routeKey: "POST /webhooks/{id}",
        stage: "$default",
        time: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
        timeEpoch: expect.any(Number),
      },
      body: '{"a":1}',
      pathParameters: { id: "w 1" },
      isBase64Encoded: false,
    });
    expect(event.headers).not.toHaveProperty("connection");
    expect(response.headers.get("apigw-requestid")).toBe(event.requestContext.requestId);
  });

  it("omits cookies, query parameters, path parameters and body when there are none", async () => {
    const { invoker, gateway } = await oneRoute("GET /plain");
    await fetch(`${gateway.url}/plain`);
    const [event] = invoker.eventsOf("fn");
    for (const key of ["cookies", "queryStringParameters", "pathParameters", "body"]) {
      expect(event).not.toHaveProperty(key);
    }
    expect(event.isBase64Encoded).toBe(false);
    expect(event.rawQueryString).toBe("");
  });

  it("joins repeated headers and query parameters with commas and moves cookies out of the headers", async () => {
    const { invoker, gateway } = await oneRoute("GET /q");
    const response = await rawRequest(gateway.url, "/q?a=1&a=2&plus=x+y&encoded=%2B&empty=", [
      "X-Multi", "one",
      "x-multi", "two",
      "Cookie", "session=abc; theme=dark",
      "Cookie", "later=1",
    ]);
    expect(response.status).toBe(200);
    const [event] = invoker.eventsOf("fn");
    expect(event.headers["x-multi"]).toBe("one,two");
    expect(event.headers).not.toHaveProperty("cookie");
    expect(event.cookies).toEqual(["session=abc", "theme=dark", "later=1"]);
    expect(event.rawQueryString).toBe("a=1&a=2&plus=x+y&encoded=%2B&empty=");
    expect(event.queryStringParameters).toEqual({ a: "1,2", plus: "x y", encoded: "+", empty: "" });
  });

  it("decodes path parameters, greedy ones included", async () => {
    const invoker = new RecordingInvoker().on("one", echo).on("rest", echo);
    const gateway = await start(
      [
        { routeKey: "GET /one/{id}", functionId: "one" },
        { routeKey: "GET /rest/{proxy+}", functionId: "rest" },
      ],
      invoker,
    );
    await fetch(`${gateway.url}/one/caf%C3%A9%3Ax`);
    await fetch(`${gateway.url}/rest/a%20b/c`);
    expect(invoker.eventsOf("one")[0].pathParameters).toEqual({ id: "café:x" });
    expect(invoker.eventsOf("rest")[0].pathParameters).toEqual({ proxy: "a b/c" });
  });

  it("base64-encodes binary bodies and passes text-like ones as text", async () => {
    const { invoker, gateway } = await oneRoute("POST /upload");
    const bytes = new Uint8Array([0, 255, 1, 128]);
    await fetch(`${gateway.url}/upload`, { method: "POST", headers: { "content-type": "image/png" }, body: bytes });
    for (const contentType of ["text/csv; charset=utf-8", "application/vnd.api+json", "application/x-www-form-urlencoded"]) {
      await fetch(`${gateway.url}/upload`, { method: "POST", headers: { "content-type": contentType }, body: "é=1" });
    }
    const [binary, ...texts] = invoker.eventsOf("fn");
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body, "base64")).toEqual(Buffer.from(bytes));
    for (const text of texts) {
      expect(text.isBase64Encoded).toBe(false);
      expect(text.body).toBe("é=1");
    }
  });
});

describe("gateway answers", () => {
  it("answers 404 with AWS's body when no route matches", async () => {
    const invoker = new RecordingInvoker();
    const gateway = await start([{ routeKey: "GET /a", functionId: "fn" }], invoker);
    const response = await fetch(`${gateway.url}/b`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("apigw-requestid")).toMatch(/=$/);
    expect(await response.text()).toBe('{"message":"Not Found"}');
    expect(invoker.calls).toHaveLength(0);
  });

  it("answers 400 to a path that cannot be decoded", async () => {
    const { invoker, gateway } = await oneRoute("$default");
    const response = await fetch(`${gateway.url}/a/%zz`);
    expect(response.status).toBe(400);
    expect(invoker.calls).toHaveLength(0);
  });

  it("answers 413 to a declared body over the limit without invoking", async () => {
    const { invoker, gateway } = await oneRoute("POST /a", echo, { maxBodyBytes: 1024 });
    const response = await fetch(`${gateway.url}/a`, { method: "POST", body: "x".repeat(1025) });
    await expectGatewayError(response, 413, "Request Entity Too Large");
    expect(invoker.calls).toHaveLength(0);
  });

  it("answers 413 to a streamed body once it passes the limit", async () => {
    const { invoker, gateway } = await oneRoute("POST /a", echo, { maxBodyBytes: 1024 });
    const chunk = new Uint8Array(600);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await fetch(`${gateway.url}/a`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(invoker.calls).toHaveLength(0);
  });

  it("accepts a body of exactly the limit", async () => {
    const { invoker, gateway } = await oneRoute("POST /a", echo, { maxBodyBytes: 1024 });
    const response = await fetch(`${gateway.url}/a`, { method: "POST", body: "x".repeat(1024) });
    expect(response.status).toBe(200);
    expect(invoker.eventsOf("fn")[0].body).toHaveLength(1024);
  });
});

describe("authorizer", () => {
  const guarded = (identitySource: string[]): GatewayRoute[] => [
    {
      routeKey: "GET /secure/{id}",
      functionId: "fn",
      authorizer: { functionId: "auth", identitySource, enableSimpleResponses: true },
    },
  ];
  /** The authorizer "auth" always answers `verdict`; the integration "fn" echoes. */
  const answering = (verdict: unknown) => new RecordingInvoker().on("auth", () => verdict).on("fn", echo);

  it("answers 401 without invoking anything when an identity source is missing or empty", async () => {
    const invoker = answering({ isAuthorized: true });
    const gateway = await start(guarded(["$request.header.Authorization"]), invoker);
    const missing = await fetch(`${gateway.url}/secure/1`);
    const empty = await fetch(`${gateway.url}/secure/1`, { headers: { authorization: "" } });
    for (const response of [missing, empty]) {
      await expectGatewayError(response, 401, "Unauthorized");
    }
    expect(invoker.calls).toHaveLength(0);
  });

  it("invokes the authorizer with the REQUEST event and passes identity source values", async () => {
    const invoker = answering({ isAuthorized: true });
    const gateway = await start(guarded(["$request.header.Authorization", "$request.querystring.tenant"]), invoker);
    const response = await fetch(`${gateway.url}/secure/7?tenant=t1`, {
      headers: { Authorization: "Bearer x", Cookie: "c=1" },
    });
    expect(response.status).toBe(200);
    const [event] = invoker.eventsOf("auth");
    expect(event).toMatchObject({
      version: "2.0",
      type: "REQUEST",
      routeArn: `arn:aws:execute-api:${API.region}:${API.accountId}:${API.apiId}/$default/GET/secure/7`,
      identitySource: ["Bearer x", "t1"],
      routeKey: "GET /secure/{id}",
      rawPath: "/secure/7",
      rawQueryString: "tenant=t1",
      cookies: ["c=1"],
      headers: expect.objectContaining({ authorization: "Bearer x" }),
      queryStringParameters: { tenant: "t1" },
      pathParameters: { id: "7" },
      requestContext: expect.objectContaining({ routeKey: "GET /secure/{id}", stage: "$default" }),
    });
    expect(event).not.toHaveProperty("body");
  });

  it("invokes the authorizer even without headers when there is no identity source", async () => {
    const invoker = answering({ isAuthorized: true });
    const gateway = await start(guarded([]), invoker);
    const response = await fetch(`${gateway.url}/secure/1`);
    expect(response.status).toBe(200);
    expect(invoker.eventsOf("auth")).toHaveLength(1);
    expect(invoker.eventsOf("auth")[0].identitySource).toEqual([]);
  });

  it("answers 403 when the authorizer denies", async () => {
    const invoker = answering({ isAuthorized: false });
    const gateway = await start(guarded([]), invoker);
    const response = await fetch(`${gateway.url}/secure/1`);
    await expectGatewayError(response, 403, "Forbidden");
    expect(invoker.eventsOf("fn")).toHaveLength(0);
  });

  it("hands the authorizer's context to the integration", async () => {
    const context = { tenantId: "t-1", nested: { level: 2 } };
    const invoker = answering({ isAuthorized: true, context });
    const gateway = await start(guarded([]), invoker);
    await fetch(`${gateway.url}/secure/1`);
    expect(invoker.eventsOf("fn")[0].requestContext.authorizer).toEqual({ lambda: context });
  });

  it("gives routes without an authorizer no authorizer key", async () => {
    const { invoker, gateway } = await oneRoute("GET /open");
    await fetch(`${gateway.url}/open`);
    expect(invoker.eventsOf("fn")[0].requestContext).not.toHaveProperty("authorizer");
  });

  it("answers 500 when the authorizer throws or returns something other than a simple response", async () => {
    const failures: GatewayFailure[] = [];
    const invoker = new RecordingInvoker()
      .on("auth", (event) => {
        if (event.rawPath === "/secure/throws") throw new Error("authorizer crashed");
        return { isAuthorized: "yes" };
      })
      .on("fn", echo);
    const gateway = await start(guarded([]), invoker, { onError: (failure) => failures.push(failure) });
    for (const path of ["/secure/throws", "/secure/garbage"]) {
      const response = await fetch(`${gateway.url}${path}`);
      await expectGatewayError(response, 500, "Internal Server Error");
    }
    expect(invoker.eventsOf("fn")).toHaveLength(0);
    expect(failures.map((failure) => [failure.functionId, (failure.error as Error).message])).toEqual([
      ["auth", "authorizer crashed"],
      ["auth", expect.stringMatching(/Malformed authorizer response/)],
    ]);
  });

  it("refuses to start with policy-response authorizers or unsupported identity sources", async () => {
    const route = (enableSimpleResponses: boolean, identitySource: string[]): GatewayRoute => ({
      routeKey: "GET /a",
      functionId: "fn",
      authorizer: { functionId: "auth", identitySource, enableSimpleResponses },
    });
    const invoker = new RecordingInvoker();
    await expect(start([route(false, [])], invoker)).rejects.toThrow(/unsupported/);
    await expect(start([route(true, ["$context.identity.sourceIp"])], invoker)).rejects.toThrow(/unsupported/);
  });
});

describe("integration response", () => {
  it("maps a structured result: status, headers, cookies and a base64 body", async () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const invoker = new RecordingInvoker().on("fn", () => ({
      statusCode: 201,
      headers: { "content-type": "application/octet-stream", "x-count": 3, "content-length": "999" },
      cookies: ["a=1; Path=/", "b=2; HttpOnly"],
      body: bytes.toString("base64"),
      isBase64Encoded: true,
    }));
    const gateway = await start([{ routeKey: "GET /r", functionId: "fn" }], invoker);
    const response = await fetch(`${gateway.url}/r`);
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("x-count")).toBe("3");
    expect(response.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; HttpOnly"]);
    expect(response.headers.get("content-length")).toBe("5");
    expect(response.headers.get("apigw-requestid")).toBe(invoker.eventsOf("fn")[0].requestContext.requestId);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it("sends 204 without a body or length", async () => {
    const { gateway } = await oneRoute("DELETE /r", () => ({ statusCode: 204 }));
    const response = await fetch(`${gateway.url}/r`, { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(response.headers.has("content-length")).toBe(false);
    expect(await response.text()).toBe("");
  });

  it("infers a 200 JSON response from a result without statusCode", async () => {
    const invoker = new RecordingInvoker()
      .on("object", () => ({ hello: "world" }))
      .on("string", () => "Hello from Lambda!");
    const gateway = await start(
      [
        { routeKey: "GET /object", functionId: "object" },
        { routeKey: "GET /string", functionId: "string" },
      ],
      invoker,
    );
    const object = await fetch(`${gateway.url}/object`);
    expect(object.status).toBe(200);
    expect(object.headers.get("content-type")).toBe("application/json");
    expect(await object.text()).toBe('{"hello":"world"}');
    const string = await fetch(`${gateway.url}/string`);
    expect(string.headers.get("content-type")).toBe("application/json");
    expect(await string.text()).toBe("Hello from Lambda!");
  });

  it("answers 500 when the function rejects or returns a malformed response", async () => {
    const failures: GatewayFailure[] = [];
    const invoker = new RecordingInvoker()
      .on("throws", () => Promise.reject(new Error("handler crashed")))
      .on("malformed", () => ({ statusCode: "200", body: "x" }));
    const gateway = await start(
      [
        { routeKey: "GET /throws", functionId: "throws" },
        { routeKey: "GET /malformed", functionId: "malformed" },
      ],
      invoker,
      { onError: (failure) => failures.push(failure) },
    );
    for (const path of ["/throws", "/malformed"]) {
      const response = await fetch(`${gateway.url}${path}`);
      expect(response.status).toBe(500);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(await response.text()).toBe('{"message":"Internal Server Error"}');
    }
    expect(failures.map((failure) => [failure.routeKey, (failure.error as Error).message])).toEqual([
      ["GET /throws", "handler crashed"],
      ["GET /malformed", expect.stringMatching(/statusCode/)],
    ]);
  });
});

describe("server lifecycle", () => {
  it("names the host and port when the port is busy", async () => {
    const first = await start([], new RecordingInvoker());
    const port = Number(new URL(first.url).port);
    await expect(start([], new RecordingInvoker(), { port })).rejects.toThrow(`API port 127.0.0.1:${port} is busy`);
  });

  it("closes promptly with a keep-alive connection open, then refuses connections", async () => {
    const invoker = new RecordingInvoker().on("fn", echo);
    const gateway = await startHttpGateway({ routes: [{ routeKey: "GET /a", functionId: "fn" }], invoker, port: 0, ...API });
    expect((await fetch(`${gateway.url}/a`)).status).toBe(200);
    const started = Date.now();
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`${gateway.url}/a`)).rejects.toThrow();
  });

  it("closes promptly while a request is in flight, answering it first", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const invoker = new RecordingInvoker().on("fn", async () => {
      await held;
      return { statusCode: 200, body: "late" };
    });
    const gateway = await startHttpGateway({ routes: [{ routeKey: "GET /a", functionId: "fn" }], invoker, port: 0, ...API });
    const pending = fetch(`${gateway.url}/a`);
    await expect.poll(() => invoker.calls.length).toBe(1);
    const started = Date.now();
    const closed = gateway.close();
    release();
    const response = await pending;
    expect(await response.text()).toBe("late");
    expect(response.headers.get("connection")).toBe("close");
    await closed;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("formatRequestTime", () => {
  it("uses the CLF-style UTC time of requestContext.time", () => {
    expect(formatRequestTime(new Date(Date.UTC(2026, 10, 4, 9, 5, 7)))).toBe("04/Nov/2026:09:05:07 +0000");
  });
});
