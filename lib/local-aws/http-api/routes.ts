import { resolveAuthorizer, type GatewayAuthorizer, type ResolvedAuthorizer } from "./authorizer.ts";

/** An HTTP API's route table: route keys parsed once, requests matched with API Gateway's precedence. */

export interface GatewayRoute {
  /** `"GET /items"`, `"PUT /a/{id}"`, `"ANY /x/{proxy+}"` or `"$default"`. */
  readonly routeKey: string;
  /** Logical id of the integration Lambda. */
  readonly functionId: string;
  readonly authorizer?: GatewayAuthorizer;
}

type Segment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "param" | "greedy"; readonly name: string };

export interface ResolvedRoute {
  readonly routeKey: string;
  readonly functionId: string;
  readonly authorizer?: ResolvedAuthorizer;
}

interface PathRoute {
  readonly route: ResolvedRoute;
  readonly method: string;
  readonly segments: readonly Segment[];
  /** Lower sorts first; see `specificity`. */
  readonly rank: readonly number[];
}

export interface RouteTable {
  readonly paths: readonly PathRoute[];
  readonly fallback?: ResolvedRoute;
}

export interface RouteMatch {
  readonly route: ResolvedRoute;
  readonly pathParameters?: Readonly<Record<string, string>>;
}

const ROUTE_KEY = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) (\/\S*)$/;
const VARIABLE = /^\{([^{}+]+)(\+?)\}$/;
const SEGMENT_RANK = { literal: 0, param: 1, greedy: 2 } as const;

/** Validates the route table once, so that a bad template fails at start, not per request. */
export function compileRoutes(routes: readonly GatewayRoute[]): RouteTable {
  const paths: PathRoute[] = [];
  let fallback: ResolvedRoute | undefined;
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.routeKey)) throw new Error(`Duplicate route key "${route.routeKey}"`);
    seen.add(route.routeKey);
    const resolved: ResolvedRoute = {
      routeKey: route.routeKey,
      functionId: route.functionId,
      ...(route.authorizer && { authorizer: resolveAuthorizer(route.routeKey, route.authorizer) }),
    };
    if (route.routeKey === "$default") {
      fallback = resolved;
      continue;
    }
    const parsed = ROUTE_KEY.exec(route.routeKey);
    if (!parsed) throw new Error(`Unsupported route key "${route.routeKey}"`);
    const [, method = "", path = ""] = parsed;
    const segments = path.slice(1).split("/").map(parseSegment);
    if (segments.some((segment, index) => segment.kind === "greedy" && index !== segments.length - 1)) {
      throw new Error(`Route "${route.routeKey}": a greedy path variable must be the last segment`);
    }
    paths.push({ route: resolved, method, segments, rank: specificity(method, segments) });
  }
  return { paths, ...(fallback && { fallback }) };
}

function parseSegment(text: string): Segment {
  const variable = VARIABLE.exec(text);
  if (!variable) return { kind: "literal", value: text };
  const [, name = "", greedy] = variable;
  return { kind: greedy ? "greedy" : "param", name };
}

/**
 * API Gateway prefers a full match over one through a greedy variable; among those, a literal
 * segment over a variable, comparing left to right; and last, an explicit method over ANY.
 */
function specificity(method: string, segments: readonly Segment[]): number[] {
  const greedy = segments.some((segment) => segment.kind === "greedy");
  return [greedy ? 1 : 0, ...segments.map((segment) => SEGMENT_RANK[segment.kind]), method === "ANY" ? 1 : 0];
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  // Two matching routes always differ before the shorter rank ends: a greedy segment sits
  // where the other route has a literal or a variable.
  return 0;
}

/** Selects the route for a request; `path` is already percent-decoded, as AWS matches it. */
export function matchRoute(table: RouteTable, method: string, path: string): RouteMatch | undefined {
  const parts = path.slice(1).split("/");
  let best: { readonly candidate: PathRoute; readonly pathParameters: Record<string, string> } | undefined;
  for (const candidate of table.paths) {
    if (candidate.method !== method && candidate.method !== "ANY") continue;
    const pathParameters = matchSegments(candidate.segments, parts);
    if (pathParameters && (!best || compareRanks(candidate.rank, best.candidate.rank) < 0)) {
      best = { candidate, pathParameters };
    }
  }
  if (best) {
    const hasParameters = Object.keys(best.pathParameters).length > 0;
    return { route: best.candidate.route, ...(hasParameters && { pathParameters: best.pathParameters }) };
  }
  return table.fallback && { route: table.fallback };
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === "greedy") {
      const rest = parts.slice(index).join("/");
      if (rest === "") return undefined;
      parameters[segment.name] = rest;
      return parameters;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.kind === "literal") {
      if (part !== segment.value) return undefined;
    } else {
      if (part === "") return undefined;
      parameters[segment.name] = part;
    }
  }
  // Unequal lengths also keep "/a/" apart from "/a", as AWS does.
  return parts.length === segments.length ? parameters : undefined;
}
