/**
 * The package's own TypeScript files and what they import, read as text: for the tests that check
 * rules about the code itself (test/architecture.test.ts, test/error-codes.test.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Every `.ts` file below `folder` (relative to the repository), as repository-relative paths. */
export function sourceFiles(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) found.push(path);
    }
  };
  walk(folder);
  return found.sort();
}

export const readSource = (file: string): string => readFileSync(join(ROOT, file), "utf8");

export interface Import {
  /** As written: `../session/types.ts`, `node:fs`, `jose`. */
  specifier: string;
  /** The repository-relative file a relative specifier names; undefined for a package. */
  target: string | undefined;
}

/** Comments out: an import named in a comment (`@example`) is not an import. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

/**
 * The imports of a file: static (`import … from`, `export … from`, `import "…"`), type-only
 * included, and dynamic (`import("…")`) with a literal specifier.
 */
export function importsOf(file: string): Import[] {
  const text = withoutComments(readSource(file));
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.map((specifier) => ({
    specifier,
    target: specifier.startsWith(".")
      ? relative(ROOT, resolve(ROOT, dirname(file), specifier))
      : undefined,
  }));
}
