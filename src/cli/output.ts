/**
 * How a result is written to stdout: `--output json|table|tsv|none` and `--query` (JMESPath, as
 * the Azure CLI does: `--query accessToken -o tsv` prints the bare token). stdout carries the
 * result and nothing else.
 */
import type { FlagSpec } from "./args.ts";
import { usageError } from "./usage-error.ts";

export const OUTPUT_FORMATS = ["json", "table", "tsv", "none"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The flags every command that prints a result takes. */
export const outputFlags: FlagSpec[] = [
  {
    name: "output",
    short: "o",
    kind: "string",
    valueName: "json|table|tsv|none",
    help: "how to print the result (default json)",
  },
  {
    name: "query",
    kind: "string",
    valueName: "jmespath",
    help: "a JMESPath expression applied to the result, e.g. accessToken",
  },
];

export function parseOutputFormat(value: string | undefined): OutputFormat {
  const format = (value ?? "json").toLowerCase();
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format))
    throw usageError(`--output takes ${OUTPUT_FORMATS.join(", ")}, not '${value}'.`);
  return format as OutputFormat;
}

/**
 * A bare field name (`accessToken`): JMESPath's unquoted identifier, read as a plain property so
 * that the most common query loads no JMESPath library. `null` and `let` are left to the library
 * (it gives them a meaning of their own), as is any name the result does not hold as its own.
 */
const BARE_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isBareField = (expression: string): boolean =>
  BARE_FIELD.test(expression) && expression !== "null" && expression !== "let";

/** Checks a JMESPath expression before any network call, so a typo costs no sign-in. */
export async function compileQuery(expression: string | undefined): Promise<void> {
  if (expression === undefined || isBareField(expression)) return;
  const { compile } = await import("@jmespath-community/jmespath");
  try {
    compile(expression);
  } catch (error) {
    throw usageError(`--query: ${(error as Error).message}`);
  }
}

/** Applies `--query`, formats and writes to stdout. */
export async function writeResult(
  data: unknown,
  format: OutputFormat,
  query: string | undefined,
): Promise<void> {
  const value = query === undefined ? data : await applyQuery(data, query);
  const text = render(value, format);
  if (text !== "") await write(text.endsWith("\n") ? text : text + "\n");
}

/** `--query`'s value: a bare field name the result holds is read directly. Exported for tests. */
export async function applyQuery(data: unknown, query: string): Promise<unknown> {
  if (
    isBareField(query) &&
    data !== null &&
    typeof data === "object" &&
    !Array.isArray(data) &&
    Object.hasOwn(data, query)
  )
    // What JMESPath's field lookup returns, without loading it.
    return (data as Record<string, unknown>)[query] ?? null;
  const { search } = await import("@jmespath-community/jmespath");
  return search(data as Parameters<typeof search>[0], query);
}

/**
 * Straight to file descriptor 1 when it takes the whole text at once: building `process.stdout`
 * costs a stream and its modules, a noticeable part of a cached `token`. A pipe that is full or
 * non-blocking (EAGAIN), or a partial write, falls back to the stream, which waits for it.
 */
async function write(text: string): Promise<void> {
  const bytes = Buffer.from(text, "utf8");
  let written = 0;
  try {
    const { writeSync } = await import("node:fs");
    written = writeSync(1, bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
  }
  if (written >= bytes.length) return;
  const rest = bytes.subarray(written);
  return new Promise((resolve, reject) =>
    process.stdout.write(rest, (error) => (error ? reject(error) : resolve())),
  );
}

/** Renders a value in one of the formats. Exported for tests. */
export function render(value: unknown, format: OutputFormat): string {
  switch (format) {
    case "none":
      return "";
    case "json":
      return JSON.stringify(value ?? null, null, 2);
    case "tsv":
      return tsv(value);
    case "table":
      return table(value);
  }
}

const scalar = (v: unknown): string =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/**
 * Like the Azure CLI: a scalar alone; an object's values on one line, separated by tabs; an
 * array one line per element. Nested objects are written as JSON.
 */
function tsv(value: unknown): string {
  const line = (v: unknown): string =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.values(v).map(scalar).join("\t")
      : Array.isArray(v)
        ? v.map(scalar).join("\t")
        : scalar(v);
  if (Array.isArray(value)) return value.map(line).join("\n");
  return line(value);
}

/** Flattens nested objects into dotted keys (`account.username`). */
function flatten(value: unknown, prefix = "", into: Record<string, unknown> = {}) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, into);
  } else into[prefix || "value"] = Array.isArray(value) ? value.map(scalar).join(" ") : value;
  return into;
}

/**
 * An array of objects is a table with a column per key; a single object is two columns, name
 * and value, one row per (flattened) key — tokens are too long to sit in a column.
 */
function table(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => v !== null && typeof v === "object")) {
    const rows = value.map((v) => flatten(v));
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return grid(
      columns.map(header),
      rows.map((r) => columns.map((c) => scalar(r[c]))),
    );
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const flat = flatten(value);
    return grid(
      ["Name", "Value"],
      Object.entries(flat).map(([k, v]) => [k, scalar(v)]),
    );
  }
  if (Array.isArray(value)) return value.map(scalar).join("\n");
  return scalar(value);
}

/** `accessToken` → `AccessToken`, `account.username` → `Account.Username` (as `az -o table`). */
const header = (key: string): string =>
  key
    .split(".")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join(".");

function grid(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
