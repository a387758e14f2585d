/**
 * Turning a registry's error response into one clear `SregistryError`.
 *
 * The distribution spec's error body (`{"errors":[{"code":"NAME_UNKNOWN",...}]}`) tells "repository
 * unknown" from "tag unknown"; status codes map to stable codes: 401 → AUTH, 403 → FORBIDDEN,
 * 404 → NOT_FOUND, 429 → RATE_LIMIT, anything else → HTTP. Messages name the registry and the
 * image, never a credential.
 *
 * @example
 * ```ts
 * if (res.status !== 200) throw await responseError(res, { registry, repo, reference: "latest", what: "manifest" });
 * ```
 */
import { isDigest } from "../oci/digest.js";
import { SregistryError } from "../util/errors.js";
import { readErrorText } from "./body.js";
import type { HttpResponse } from "./http.js";
import { LOG_IN_HINT } from "./token.js";

export interface ErrorContext {
  registry: string;
  repo?: string;
  reference?: string;
  what: "manifest" | "blob" | "tags" | "ping";
  /** Where the credentials of the failed request came from (the response's `credentialsSource`). */
  credentialsSource?: string;
}

/** `repo:tag` or `repo@digest`. */
export function formatReference(repo: string, reference: string): string {
  return `${repo}${isDigest(reference) ? "@" : ":"}${reference}`;
}

/** Reads (a capped part of) the body and builds the error for a non-success response. */
export async function responseError(res: HttpResponse, ctx: ErrorContext): Promise<SregistryError> {
  const codes = errorCodes(await readErrorText(res.body));
  const source = res.credentialsSource;
  return statusError(res.status, codes, source === undefined ? ctx : { ...ctx, credentialsSource: source });
}

export function statusError(status: number, codes: string[], ctx: ErrorContext): SregistryError {
  const image = describe(ctx);
  switch (status) {
    case 401:
      return new SregistryError(
        ctx.credentialsSource === undefined
          ? `unauthorized: ${ctx.registry} refused anonymous access to ${image}: ${LOG_IN_HINT}`
          : `unauthorized: ${ctx.registry} refused access to ${image} with the credentials from ${ctx.credentialsSource}: check them`,
        { code: "AUTH" },
      );
    case 403:
      return new SregistryError(`access denied to ${ctx.repo ?? image} on ${ctx.registry} (not entitled?)`, {
        code: "FORBIDDEN",
      });
    case 404:
      return notFound(codes, ctx);
    case 429:
      return new SregistryError(
        `rate limited by ${ctx.registry} (HTTP 429) while fetching ${image}; try later`,
        {
          code: "RATE_LIMIT",
        },
      );
    default: {
      const detail = codes.length > 0 ? ` (${codes.join(", ")})` : "";
      return new SregistryError(`${ctx.registry} answered HTTP ${status} for ${ctx.what} ${image}${detail}`, {
        code: "HTTP",
      });
    }
  }
}

function notFound(codes: string[], ctx: ErrorContext): SregistryError {
  const where = `${ctx.registry}/${ctx.repo ?? ""}`;
  if (codes.includes("NAME_UNKNOWN"))
    return new SregistryError(`repository unknown: ${where}`, { code: "NOT_FOUND" });
  const ref =
    ctx.reference === undefined ? where : `${ctx.registry}/${formatReference(ctx.repo ?? "", ctx.reference)}`;
  switch (ctx.what) {
    case "manifest":
      return new SregistryError(`manifest unknown: ${ref}`, { code: "NOT_FOUND" });
    case "blob":
      return new SregistryError(`blob unknown: ${ref}`, { code: "NOT_FOUND" });
    case "tags":
      return new SregistryError(`repository unknown: ${where}`, { code: "NOT_FOUND" });
    default:
      return new SregistryError(`${ctx.registry} does not serve the registry API (/v2/ not found)`, {
        code: "NOT_FOUND",
      });
  }
}

function describe(ctx: ErrorContext): string {
  if (!ctx.repo) return ctx.registry;
  return ctx.reference === undefined ? ctx.repo : formatReference(ctx.repo, ctx.reference);
}

/** The `code`s of a distribution error body, or [] when it is not one. */
export function errorCodes(text: string): string[] {
  try {
    const json = JSON.parse(text) as { errors?: { code?: unknown }[] };
    if (!Array.isArray(json.errors)) return [];
    return json.errors.map((e) => e.code).filter((c): c is string => typeof c === "string");
  } catch {
    return [];
  }
}
