/**
 * The command-line parser. It accepts two spellings of the same flags so that a PowerShell
 * script ports by copy and paste:
 *
 * - GNU style: `--application-id X --scopes a b --service-principal`, `--flag=value`;
 * - PowerShell style: `-ApplicationId X -Scopes a,b -ServicePrincipal`, any case, any alias,
 *   a unique prefix (`-App`), and `-Switch:$true` / `-Param:value`.
 *
 * Both are folded to one key (lower case, no dashes), so `--tenant-id`, `-TenantId` and
 * `--tenantid` are the same flag. No framework: the grammar is small and the parser must load
 * fast.
 */
import { usageError } from "./usage-error.ts";

/**
 * - `boolean`: a switch;
 * - `string`: one value;
 * - `list`: several values, repeated or following the flag, split on spaces and commas;
 * - `source`: a secret's source (`-`, `@path`, `env:NAME`, `prompt`); the value may be left out
 *   (then the caller picks a default source or prompts).
 */
export type FlagKind = "boolean" | "string" | "list" | "source";

export interface FlagSpec {
  /** Kebab-case name, without the dashes. */
  name: string;
  kind: FlagKind;
  /** Other kebab-case names and PowerShell parameter names (any case). */
  aliases?: string[];
  /** One-letter flag, e.g. `o` for `-o`. */
  short?: string;
  /** Shown by `--help`. */
  help: string;
  valueName?: string;
  /** Left out of `--help` (PowerShell common parameters accepted for compatibility). */
  hidden?: boolean;
  /**
   * The environment variable read when the flag is not given ({@link getSetting}); for a `source`
   * flag, the variable read when the source is left out.
   */
  env?: string;
}

export type FlagValue = string | boolean | string[] | SourceValue;

/** A `source` flag given without a value is `{ source: undefined }`. */
export interface SourceValue {
  source: string | undefined;
}

export interface ParsedArgs {
  /** Keyed by the flag's kebab-case `name`. */
  values: Map<string, FlagValue>;
  /** Which spelling the user wrote for each flag, for error messages. */
  spelled: Map<string, string>;
  positionals: string[];
  /** The specs parsed against, by `name`: where {@link getSetting} finds a flag's variable. */
  specs: ReadonlyMap<string, FlagSpec>;
}

const fold = (name: string): string => name.toLowerCase().replace(/[-_]/g, "");

function buildIndex(specs: readonly FlagSpec[]): Map<string, FlagSpec> {
  const index = new Map<string, FlagSpec>();
  for (const spec of specs) {
    for (const n of [spec.name, ...(spec.aliases ?? [])]) {
      const key = fold(n);
      const existing = index.get(key);
      if (existing && existing !== spec) throw new Error(`flag '${n}' defined twice`);
      index.set(key, spec);
    }
  }
  return index;
}

/** PowerShell accepts any unambiguous prefix of a parameter name or alias. */
function byPrefix(index: Map<string, FlagSpec>, key: string): FlagSpec | undefined {
  const found = new Set<FlagSpec>();
  for (const [name, spec] of index) if (name.startsWith(key)) found.add(spec);
  if (found.size > 1) {
    const names = [...found].map((s) => `--${s.name}`).join(", ");
    throw usageError(`'-${key}' is ambiguous: it could be ${names}.`);
  }
  return found.values().next().value;
}

const looksLikeFlag = (arg: string): boolean => arg.length > 1 && arg.startsWith("-");

function parseBoolean(text: string, spelled: string): boolean {
  const t = text.toLowerCase();
  if (["$true", "true", "1", "yes"].includes(t)) return true;
  if (["$false", "false", "0", "no"].includes(t)) return false;
  if (t === "") {
    // In a POSIX shell, an unquoted `-Switch:$true` arrives as `-Switch:` ($true is an unset variable).
    throw usageError(
      `'${spelled}:' has no value. In bash, $true and $false expand to nothing: write '${spelled}' alone, or quote it: '${spelled}:$true'.`,
    );
  }
  throw usageError(`'${spelled}' takes true or false, not '${text}'.`);
}

const splitList = (value: string): string[] => value.split(/[\s,]+/).filter((v) => v !== "");

/**
 * Parses `argv` against `specs`. Throws {@link UsageError} for an unknown flag, a missing value
 * or a bad switch value.
 *
 * @example
 * parseArgs(["-ApplicationId", "x", "-Scopes", "a,b", "--service-principal"], specs)
 * // values: application-id → "x", scopes → ["a", "b"], service-principal → true
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const index = buildIndex(specs);
  const shorts = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values = new Map<string, FlagValue>();
  const spelled = new Map<string, string>();
  const positionals: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!looksLikeFlag(arg)) {
      positionals.push(arg);
      continue;
    }

    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let written: string;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      written = eq < 0 ? arg : arg.slice(0, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      spec = index.get(fold(written.slice(2)));
    } else if (arg.length === 2) {
      written = arg;
      spec = shorts.get(arg[1]!);
    } else {
      // PowerShell: -Name, -Name:value (the colon form is how switches take $true/$false).
      const colon = arg.indexOf(":");
      written = colon < 0 ? arg : arg.slice(0, colon);
      inline = colon < 0 ? undefined : arg.slice(colon + 1);
      const key = fold(written.slice(1));
      spec = index.get(key) ?? byPrefix(index, key);
    }
    if (!spec) throw usageError(`unknown option '${written}'.`);
    spelled.set(spec.name, written);

    const next = argv[i + 1];
    switch (spec.kind) {
      case "boolean":
        values.set(spec.name, inline === undefined ? true : parseBoolean(inline, written));
        break;
      case "string": {
        let value = inline;
        if (value === undefined) {
          if (next === undefined || looksLikeFlag(next))
            throw usageError(`'${written}' needs a value.`);
          value = next;
          i++;
        }
        values.set(spec.name, value);
        break;
      }
      case "source": {
        let value = inline;
        // `-` alone is stdin; any other dash-word is the next flag, so the value was left out.
        if (value === undefined && next !== undefined && (next === "-" || !looksLikeFlag(next))) {
          value = next;
          i++;
        }
        values.set(spec.name, { source: value });
        break;
      }
      case "list": {
        const list = (values.get(spec.name) as string[] | undefined) ?? [];
        if (inline !== undefined) list.push(...splitList(inline));
        else {
          let taken = 0;
          while (i + 1 < argv.length && !looksLikeFlag(argv[i + 1]!)) {
            list.push(...splitList(argv[++i]!));
            taken++;
          }
          if (taken === 0) throw usageError(`'${written}' needs at least one value.`);
        }
        values.set(spec.name, list);
        break;
      }
    }
  }
  return { values, spelled, positionals, specs: new Map(specs.map((s) => [s.name, s])) };
}

/** Typed accessors over {@link ParsedArgs}. */
export function getString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values.get(name);
  return typeof v === "string" ? v : undefined;
}
/**
 * A string flag's value, else its environment variable ({@link FlagSpec.env}) when set and not
 * empty, with the name of where it came from (the flag as spelled, or the variable) for messages.
 */
export function getSettingFrom(
  args: ParsedArgs,
  name: string,
): { value: string; from: string } | undefined {
  const value = getString(args, name);
  if (value !== undefined) return { value, from: args.spelled.get(name) ?? `--${name}` };
  const variable = args.specs.get(name)?.env;
  const fromEnv = variable === undefined ? undefined : process.env[variable];
  return fromEnv ? { value: fromEnv, from: variable! } : undefined;
}
/** A string flag's value, else its environment variable ({@link FlagSpec.env}). */
export function getSetting(args: ParsedArgs, name: string): string | undefined {
  return getSettingFrom(args, name)?.value;
}
export function getBoolean(args: ParsedArgs, name: string): boolean {
  return args.values.get(name) === true;
}
export function getList(args: ParsedArgs, name: string): string[] | undefined {
  const v = args.values.get(name);
  return Array.isArray(v) ? v : undefined;
}
export function getSource(args: ParsedArgs, name: string): SourceValue | undefined {
  const v = args.values.get(name);
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
}

/** `--help` text for a list of flags. */
export function formatFlags(specs: readonly FlagSpec[]): string {
  const rows = specs
    .filter((s) => !s.hidden)
    .map((s) => {
      const names = [
        ...(s.short ? [`-${s.short}`] : []),
        `--${s.name}`,
        ...(s.aliases ?? []).filter((a) => a === a.toLowerCase()).map((a) => `--${a}`),
      ].join(", ");
      const value =
        s.kind === "boolean"
          ? ""
          : s.kind === "list"
            ? ` <${s.valueName ?? "value"}>…`
            : s.kind === "source"
              ? ` [<${s.valueName ?? "source"}>]`
              : ` <${s.valueName ?? "value"}>`;
      return [names + value, s.help] as const;
    });
  const width = Math.min(44, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows
    .map(([left, help]) =>
      left.length + 2 > width
        ? `  ${left}\n  ${" ".repeat(width)}${help}`
        : `  ${left.padEnd(width)}${help}`,
    )
    .join("\n");
}
