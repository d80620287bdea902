/**
 * IOS output modifiers: `<command> | include|exclude|begin|section <regex>`.
 * The regex is everything after the keyword (spaces included), as IOS
 * takes it; JavaScript's RegExp reads it (IOS's own regex dialect is
 * POSIX-like: the shapes people type — `BOOT`, `^AP`, `Image|Boot` — mean
 * the same in both).
 */
import { type Answer, type CaretPlace, caretError, IOS_MESSAGES, type Node, resolve } from "./grammar.js";

export type FilterKind = "include" | "exclude" | "begin" | "section";

export interface OutputFilter {
  kind: FilterKind;
  pattern: RegExp;
}

const KINDS: readonly FilterKind[] = ["begin", "exclude", "include", "section"];

const HELP: Record<FilterKind, string> = {
  begin: "Begin with the line that matches",
  exclude: "Exclude lines that match",
  include: "Include lines that match",
  section: "Filter a section of output",
};

/** The modifiers as a grammar tree, for `| ?` and `| in?`. */
const TREE: Node<void> = {
  words: Object.fromEntries(KINDS.map((k) => [k, { help: HELP[k], node: { argument: { name: "LINE", help: "Regular Expression", node: { run: () => ({ ok: true, text: "" }) } } } }])),
};

/** A line split at its modifier: the command, and the filter to apply — or what to print instead (help, an error). */
export type SplitLine = { command: string; filter?: OutputFilter } | { answer: Answer };

/** The `|` that starts a modifier: the first one at a word's start. */
const PIPE = /(^|\s)\|/;

export function splitFilter(line: string, place: CaretPlace = {}): SplitLine {
  const pipe = PIPE.exec(line);
  if (!pipe) return { command: line };
  const at = pipe.index + pipe[1]!.length;
  const command = line.slice(0, at);
  const rest = line.slice(at + 1);
  const restColumn = at + 1;
  if (rest.endsWith("?")) {
    const resolved = resolve(TREE, rest, place.indent === undefined ? {} : { indent: place.indent + restColumn });
    return { answer: "answer" in resolved ? resolved.answer : { ok: true, text: "" } };
  }
  const keyword = /\S+/.exec(rest);
  if (!keyword) return { answer: { ok: false, text: `${IOS_MESSAGES.incomplete}\n` } };
  const matches = KINDS.filter((k) => k.startsWith(keyword[0].toLowerCase()));
  if (matches.length !== 1) return { answer: caretError(line, restColumn + keyword.index, place) };
  const source = rest.slice(keyword.index + keyword[0].length).trim();
  if (source === "") return { answer: { ok: false, text: `${IOS_MESSAGES.incomplete}\n` } };
  try {
    return { command, filter: { kind: matches[0]!, pattern: new RegExp(source) } };
  } catch {
    return { answer: caretError(line, restColumn + rest.indexOf(source, keyword.index + keyword[0].length), place) };
  }
}

/** Apply a modifier to a command's output ("\n"-terminated lines). */
export function applyFilter(text: string, filter: OutputFilter): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const hit = (l: string) => filter.pattern.test(l);
  let kept: string[];
  switch (filter.kind) {
    case "include":
      kept = lines.filter(hit);
      break;
    case "exclude":
      kept = lines.filter((l) => !hit(l));
      break;
    case "begin": {
      const first = lines.findIndex(hit);
      kept = first < 0 ? [] : lines.slice(first);
      break;
    }
    case "section":
      kept = sections(lines, hit);
      break;
  }
  return kept.map((l) => `${l}\n`).join("");
}

const indentOf = (l: string) => /^\s*/.exec(l)![0].length;

/** IOS `section`: each matching line with the lines indented under it. */
function sections(lines: readonly string[], hit: (l: string) => boolean): string[] {
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!hit(lines[i]!)) continue;
    const depth = indentOf(lines[i]!);
    kept.push(lines[i]!);
    while (i + 1 < lines.length && lines[i + 1]!.trim() !== "" && indentOf(lines[i + 1]!) > depth) kept.push(lines[++i]!);
  }
  return kept;
}
