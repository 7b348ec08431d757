import { InvalidCursorError } from "../data/cursor.ts";
import { invalidCursor } from "./problems.ts";

/** Where a listing lives: its path and the query (other than the cursor) its next page keeps. */
export interface ListingLink {
  readonly path: string;
  readonly query: Readonly<Record<string, string | number>>;
}

/**
 * Serves one page of a listing: the client's cursor goes to `list` (a cursor the data layer
 * refuses becomes the invalid-cursor problem), and the next page's cursor comes back as
 * `X-Next-Cursor` and as a `Link: <…&cursor=…>; rel="next"` that repeats the listing's query.
 */
export async function paged<P extends { readonly nextCursor: string | undefined }>(
  link: ListingLink,
  cursor: string | undefined,
  list: (cursor: string | undefined) => Promise<P>,
): Promise<{ readonly page: P; readonly headers: Record<string, string> }> {
  let page: P;
  try {
    page = await list(cursor);
  } catch (error) {
    if (error instanceof InvalidCursorError) throw invalidCursor();
    throw error;
  }
  const next = page.nextCursor;
  if (next === undefined) return { page, headers: {} };
  const query = [...Object.entries(link.query), ["cursor", next]].map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
  return { page, headers: { "x-next-cursor": next, link: `<${link.path}?${query.join("&")}>; rel="next"` } };
}
