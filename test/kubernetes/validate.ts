/**
 * Kubernetes manifests checked against the API's own schemas, without a
 * cluster. kubernetes-models (npm, generated from the Kubernetes OpenAPI
 * spec) gives two views of each kind and we use both:
 * - its compiled JSON-schema validator (`new StatefulSet(doc).validate()`):
 *   types, enums, required fields, formats — but the OpenAPI schemas do not
 *   forbid unknown properties, so a misspelled `runAsNonroot` would pass;
 * - its TypeScript interfaces (IStatefulSet, …), from the same spec: each
 *   document becomes an object literal typed by its kind, and the compiler's
 *   excess-property check rejects every field the API does not define, at any
 *   depth, as the API server's strict field validation does.
 */
import { join, resolve } from "node:path";
import ts from "typescript";

/** A parsed manifest document (what YAML gives). */
export type Manifest = Record<string, unknown>;

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: Manifest): { validate(): void };
}

function describe(doc: Manifest): string {
  const name = (doc.metadata as { name?: unknown } | undefined)?.name;
  return `${String(doc.kind)} ${String(name ?? "(no name)")}`;
}

/** The package subpath of an apiVersion: "v1" → "v1", "apps/v1" → "apps/v1". */
function modulePath(apiVersion: unknown): string | undefined {
  return typeof apiVersion === "string" && /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) ? apiVersion : undefined;
}

async function modelOf(doc: Manifest): Promise<ModelClass | undefined> {
  const path = modulePath(doc.apiVersion);
  if (path === undefined || typeof doc.kind !== "string") return undefined;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ `kubernetes-models/${path}`)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const model = mod[doc.kind] as ModelClass | undefined;
  return model?.kind === doc.kind && model.apiVersion === doc.apiVersion ? model : undefined;
}

/** The schema errors of each document: one line per document that fails ("StatefulSet vap-fleet: data/spec/replicas must be integer"). */
export async function schemaErrors(docs: Manifest[]): Promise<string[]> {
  const errors: string[] = [];
  for (const doc of docs) {
    const Model = await modelOf(doc);
    if (!Model) {
      errors.push(`${describe(doc)}: no Kubernetes schema for kind ${String(doc.kind)} in apiVersion ${String(doc.apiVersion)}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (e) {
      errors.push(`${describe(doc)}: ${(e as Error).message}`);
    }
  }
  return errors;
}

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The fields each document sets that its kind does not define (and any other
 * type error the compiler finds), one line each. Documents of a kind without
 * a schema are left to schemaErrors().
 */
export async function fieldErrors(docs: Manifest[]): Promise<string[]> {
  // Virtual sources beside this file, so that `kubernetes-models` resolves from the repository's node_modules.
  const sources = new Map<string, { text: string; doc: Manifest }>();
  for (const [i, doc] of docs.entries()) {
    if (!(await modelOf(doc))) continue;
    const file = join(ROOT, "test/kubernetes", `__manifest${i}__.ts`);
    const text = `import type { I${String(doc.kind)} as T } from "kubernetes-models/${String(doc.apiVersion)}/${String(doc.kind)}";\nexport const doc: T = ${JSON.stringify(doc, null, 1)};\n`;
    sources.set(file, { text, doc });
  }
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    const source = sources.get(resolve(name));
    return source ? ts.createSourceFile(name, source.text, version) : getSourceFile(name, version, ...rest);
  };
  host.fileExists = (name) => sources.has(resolve(name)) || fileExists(name);
  host.readFile = (name) => sources.get(resolve(name))?.text ?? readFile(name);
  host.getDirectories = (path) => ts.sys.getDirectories(path);
  const program = ts.createProgram([...sources.keys()], options, host);
  const errors: string[] = [];
  for (const [file, { doc }] of sources) {
    for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(file))) {
      const where = d.file && d.start !== undefined ? `line ${d.file.getLineAndCharacterOfPosition(d.start).line} of its JSON: ` : "";
      errors.push(`${describe(doc)}: ${where}${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
    }
  }
  return errors;
}

/** Both checks: a document passes only if its kind exists, its schema holds and it sets no unknown field. */
export async function manifestErrors(docs: Manifest[]): Promise<string[]> {
  return [...(await schemaErrors(docs)), ...(await fieldErrors(docs))];
}
