/**
 * An IOS-style command line over a tree of keywords: any unambiguous
 * prefix of a keyword stands for it (`sh ap sum`), keywords match in any
 * case, and mistakes read as IOS prints them — the caret under the first
 * word that fits nowhere, `% Ambiguous command:` quoting the line,
 * `% Incomplete command.` — and `?` lists what may come next (or, right
 * after a partial word, the keywords it could start). Pure: a line in, text out.
 * The lab controller's operator commands and the AP console share it.
 */

/** What a command line gets back: the text to print, and whether it was a command that ran. */
export interface Answer {
  ok: boolean;
  /** Empty, or lines each ending in "\n". */
  text: string;
}

/** One place in the tree: the keywords that may follow, or one free word (an AP name), and what the line does if it ends here (`R`: what a command gives back). */
export interface Node<C, R = Answer> {
  readonly words?: Readonly<Record<string, { readonly help: string; readonly node: Node<C, R> }>>;
  readonly argument?: { readonly name: string; readonly help: string; readonly node: Node<C, R> };
  /** The command at this point; `args` are the free words on the way, in order. */
  readonly run?: (context: C, args: readonly string[]) => R;
}

/** Where the caret goes: under the bad word in the line as the operator sees it, `indent` columns after the screen's left edge. */
export interface CaretPlace {
  /**
   * Columns before the line on the operator's screen (an interactive
   * prompt's width, the line already echoed). Absent: the answer repeats
   * the line itself, so that the caret has something to point at.
   */
  indent?: number;
}

export const IOS_MESSAGES = {
  invalid: "% Invalid input detected at '^' marker.",
  ambiguous: (line: string) => `% Ambiguous command:  "${line}"`,
  incomplete: "% Incomplete command.",
  unrecognized: "% Unrecognized command",
} as const;

interface Token {
  text: string;
  column: number;
}

function tokens(line: string): Token[] {
  return [...line.matchAll(/\S+/g)].map((m) => ({ text: m[0], column: m.index }));
}

const fail = (...lines: string[]): Answer => ({ ok: false, text: lines.map((l) => `${l}\n`).join("") });

type Step<C, R> = { node: Node<C, R>; args: string[] } | { error: Answer };

/** Walk the tree along `words`: the node they lead to and the free words taken, or the IOS error the first word that fits nowhere gets. */
function walk<C, R>(root: Node<C, R>, words: readonly Token[], line: string, place: CaretPlace): Step<C, R> {
  let node = root;
  const args: string[] = [];
  for (const word of words) {
    if (node.argument) {
      args.push(word.text);
      node = node.argument.node;
      continue;
    }
    const key = word.text.toLowerCase();
    const keywords = Object.keys(node.words ?? {});
    const exact = keywords.find((k) => k === key);
    const matches = exact ? [exact] : keywords.filter((k) => k.startsWith(key));
    if (matches.length > 1) return { error: fail(IOS_MESSAGES.ambiguous(line.trim())) };
    if (matches.length === 0) return { error: caretError(line, word.column, place) };
    node = node.words![matches[0]!]!.node;
  }
  return { node, args };
}

/** `?` after a space: each keyword (or the free word) that may come next with its help, and `<cr>` where the command may end. */
function nextHelp<C, R>(node: Node<C, R>): Answer {
  const rows: [string, string][] = [
    ...Object.entries(node.words ?? {}).map(([word, { help }]): [string, string] => [word, help]),
    ...(node.argument ? [[node.argument.name, node.argument.help] as [string, string]] : []),
    ...(node.run ? [["<cr>", "<cr>"] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([w]) => w.length)) + 2;
  return { ok: true, text: rows.map(([w, h]) => `  ${w.padEnd(width)}${h}\n`).join("") };
}

/** `?` right after a partial word: the keywords it could start, on one line. */
function completions<C, R>(node: Node<C, R>, partial: string): Answer {
  if (node.argument) return { ok: true, text: `${node.argument.name}\n` };
  const matches = Object.keys(node.words ?? {}).filter((k) => k.startsWith(partial.toLowerCase()));
  return matches.length === 0 ? fail(IOS_MESSAGES.unrecognized) : { ok: true, text: `${matches.join("  ")}\n` };
}

/** What a line comes to: a command to run (the node it ends at and the free words on the way), or the text to print instead (help, an error). */
export type Resolved<C, R = Answer> = { run: NonNullable<Node<C, R>["run"]>; args: string[] } | { answer: Answer };

/**
 * Read one command line against the tree without running it: `?` help, the
 * IOS error of a line that fits nowhere, or the command it names — for a
 * caller whose commands need more than `run` gives (the AP console's are
 * asynchronous and see the session).
 */
export function resolve<C, R>(root: Node<C, R>, line: string, place: CaretPlace = {}): Resolved<C, R> {
  if (line.endsWith("?")) {
    const before = line.slice(0, -1);
    const words = tokens(before);
    const partial = before.length > 0 && !/\s$/.test(before) ? words.pop() : undefined;
    const step = walk(root, words, before, place);
    if ("error" in step) return { answer: step.error };
    return { answer: partial ? completions(step.node, partial.text) : nextHelp(step.node) };
  }
  const words = tokens(line);
  if (words.length === 0) return { answer: { ok: true, text: "" } };
  const step = walk(root, words, line, place);
  if ("error" in step) return { answer: step.error };
  return step.node.run ? { run: step.node.run, args: step.args } : { answer: fail(IOS_MESSAGES.incomplete) };
}

/** Run one command line against the tree (`context` is what the commands read). */
export function interpret<C>(root: Node<C>, context: C, line: string, place: CaretPlace = {}): Answer {
  const resolved = resolve(root, line, place);
  return "answer" in resolved ? resolved.answer : resolved.run(context, resolved.args);
}

/** The caret under column `column` of `line` (as `walk` places it for a word), then IOS's invalid-input line. */
export function caretError(line: string, column: number, place: CaretPlace = {}): Answer {
  const caret = `${" ".repeat((place.indent ?? 0) + column)}^`;
  return place.indent === undefined ? fail(line, caret, IOS_MESSAGES.invalid) : fail(caret, IOS_MESSAGES.invalid);
}

/** Every command the tree holds, as words (`show ap name WORD config general`), for `help`. */
export function commandList<C, R>(node: Node<C, R>, prefix: readonly string[] = []): string[] {
  return [
    ...(node.run && prefix.length > 0 ? [prefix.join(" ")] : []),
    ...Object.entries(node.words ?? {}).flatMap(([word, next]) => commandList(next.node, [...prefix, word])),
    ...(node.argument ? commandList(node.argument.node, [...prefix, node.argument.name]) : []),
  ];
}
