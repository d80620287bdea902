import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { main } from "../../cli/main.js";
import { fleetOptions } from "../../agent/fleet/index.js";
import { readmeCommands } from "../support/readme.js";
import { tempDir } from "../support/temp.js";
import { type Manifest, manifestErrors } from "./validate.js";

const DIR = resolve("deploy/kubernetes");
/**
 * Debian's kubernetes-client (kubectl 1.20, with kustomize built in), unpacked
 * by .ci/install-peers beside the system's files: its /usr/bin/kubectl would
 * clash with another kubectl package a host may have.
 */
const KUBECTL = "/opt/kubernetes-client/usr/bin/kubectl";
/** Issue 15's bound for `vap fleet`: memory per AP. */
const KIB_PER_AP = 150;

/** Every document of a YAML stream, read as Kubernetes reads it (YAML 1.1: `0440` is octal). */
function documents(text: string): Manifest[] {
  return parseAllDocuments(text, { version: "1.1" }).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
    return d.toJS() as Manifest;
  });
}

/** `kubectl kustomize DIR`: what `kubectl apply -k DIR` would send. */
function kustomize(dir: string): Manifest[] {
  if (!existsSync(KUBECTL)) throw new Error(`test peer ${KUBECTL} is not installed: run \`sudo .ci/install-peers\``);
  return documents(execFileSync(KUBECTL, ["kustomize", dir], { encoding: "utf8" }));
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
const docs = files.flatMap((f) => documents(readFileSync(join(DIR, f), "utf8")));
const kustomization = parse(readFileSync(join(DIR, "kustomization.yaml"), "utf8")) as { resources: string[]; images: { name: string; newName: string; newTag: string }[] };

// Loose views of the documents, enough for the invariants below; the schemas check the rest.
interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; defaultMode?: number }; configMap?: { name: string } }[];
}
interface StatefulSet {
  metadata: { name: string };
  spec: {
    serviceName: string;
    podManagementPolicy?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Service {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { clusterIP?: string; selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
}

function only<T>(kind: string, from: Manifest[] = docs): T[] {
  return from.filter((d) => d.kind === kind) as T[];
}
const [statefulSet] = only<StatefulSet>("StatefulSet");
const services = only<Service>("Service");
const [configMap] = only<{ data: Record<string, string> }>("ConfigMap");
const [secret] = only<{ metadata: { name: string }; stringData: Record<string, string> }>("Secret");
const pod = statefulSet!.spec.template.spec;
const container = pod.containers[0]!;
const fleet = parse(configMap!.data["fleet.yaml"]!) as Record<string, unknown>;

/** Our own rule beyond the schemas (where `image` is optional): every container names the image it runs. */
function imagelessContainers(from: Manifest[]): string[] {
  return only<StatefulSet>("StatefulSet", from).flatMap((s) => s.spec.template.spec.containers.filter((c) => !c.image).map((c) => `${s.metadata.name}/${c.name}`));
}

/** The port a Service's targetPort or a probe's port names, as a number. */
function containerPort(port: string | number): number | undefined {
  return typeof port === "number" ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}

function subset(labels: Record<string, string>, of: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => of[k] === v);
}

describe("Kubernetes manifests (deploy/kubernetes)", () => {
  it("holds a StatefulSet, its two Services, the ConfigMap and the example Secret; kustomize applies all but the Secret", () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(["ConfigMap", "Secret", "Service", "Service", "StatefulSet"]);
    expect(kustomization.resources.sort()).toEqual(files.filter((f) => f !== "secret.example.yaml").sort());
  });

  it("every document validates against the Kubernetes API schema of its kind, with no unknown field", async () => {
    expect(await manifestErrors(docs)).toEqual([]);
  });

  it("kubectl kustomize builds the same objects, valid, with the image kustomization.yaml names", async () => {
    const built = kustomize(DIR);
    expect(built.map((d) => `${String(d.kind)}`).sort()).toEqual(["ConfigMap", "Service", "Service", "StatefulSet"]);
    expect(await manifestErrors(built)).toEqual([]);
    const [image] = kustomization.images;
    expect(only<StatefulSet>("StatefulSet", built)[0]!.spec.template.spec.containers[0]!.image).toBe(`${image!.newName}:${image!.newTag}`);
    expect(container.image?.split(":")[0]).toBe(image!.name);
  });

  it("the image is set in one place: another tag in kustomization.yaml reaches the pods", () => {
    const copy = tempDir("kustomize");
    cpSync(DIR, copy, { recursive: true });
    const text = readFileSync(join(copy, "kustomization.yaml"), "utf8");
    writeFileSync(join(copy, "kustomization.yaml"), text.replace(/newName: .*/, "newName: registry.example/lab/vap").replace(/newTag: .*/, "newTag: 9.9.9"));
    expect(only<StatefulSet>("StatefulSet", kustomize(copy))[0]!.spec.template.spec.containers[0]!.image).toBe("registry.example/lab/vap:9.9.9");
  });

  it("each pod runs one shard of the fleet: vap fleet --config <the ConfigMap> --shard auto, pods started in parallel", () => {
    expect(container.args?.join(" ")).toBe("fleet --config /etc/vap/fleet.yaml --shard auto");
    expect(statefulSet!.spec.podManagementPolicy).toBe("Parallel");
    const config = container.volumeMounts?.find((m) => m.mountPath === "/etc/vap/fleet.yaml");
    expect(config).toMatchObject({ subPath: "fleet.yaml", readOnly: true });
    expect(pod.volumes?.find((v) => v.name === config!.name)?.configMap?.name).toBe((configMap as unknown as { metadata: { name: string } }).metadata.name);
    expect(fleet).toMatchObject({ storage: "sink", pki: "/etc/vap/pki" });
    expect(fleet.shard).toBeUndefined(); // the command line's --shard auto decides, not a copy here
  });

  it("vap fleet takes the ConfigMap's fleet.yaml as it is, and --shard auto gives pod vap-fleet-K the APs K × aps …", () => {
    const file = join(tempDir("k8s-fleet"), "fleet.yaml");
    writeFileSync(file, configMap!.data["fleet.yaml"]!);
    const options = fleetOptions({ config: file, shard: "auto" }, { cores: 2, hostname: "vap-fleet-3" });
    expect(options).toMatchObject({ shard: 3, aps: fleet.aps, pki: fleet.pki, metrics: { port: 9464 }, storage: "sink" });
    rmSync(dirname(file), { recursive: true, force: true });
  });

  it("the headless Service governs the StatefulSet, and every selector picks the pod's labels", () => {
    const headless = services.find((s) => s.metadata.name === statefulSet!.spec.serviceName);
    expect(headless?.spec.clusterIP).toBe("None");
    const labels = statefulSet!.spec.template.metadata.labels;
    expect(subset(statefulSet!.spec.selector.matchLabels, labels)).toBe(true);
    for (const s of services) expect(subset(s.spec.selector, labels), s.metadata.name).toBe(true);
    expect(subset({ "app.kubernetes.io/name": "someone-else" }, labels)).toBe(false);
  });

  it("fleet.yaml's metrics port is the one the container exposes, the Services target and Prometheus and the probes use", () => {
    const port = Number(/^\[?[^\]]*\]?:(\d+)$/.exec(String(fleet.metrics))?.[1]);
    expect(port).toBe(9464);
    expect(container.ports?.map((p) => p.containerPort)).toEqual([port]);
    for (const s of services) expect(s.spec.ports.map((p) => [p.port, containerPort(p.targetPort)]), s.metadata.name).toEqual([[port, port]]);
    const metrics = services.find((s) => s.metadata.annotations?.["prometheus.io/scrape"] === "true");
    expect(metrics?.metadata.annotations).toMatchObject({ "prometheus.io/port": String(port), "prometheus.io/path": "/metrics" });
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet?.path).toBe("/healthz");
      expect(containerPort(probe!.httpGet!.port)).toBe(port);
    }
  });

  it("the Secret holds the CA and the image root, mounted read-only (0440) where fleet.yaml's pki and image-trust point", () => {
    expect(Object.keys(secret!.stringData).sort()).toEqual(["ca.key", "ca.pem", "image-ca.pem"]);
    const volume = pod.volumes?.find((v) => v.secret?.secretName === secret!.metadata.name);
    expect(volume?.secret?.defaultMode).toBe(0o440);
    const mount = container.volumeMounts?.find((m) => m.name === volume!.name);
    expect(mount).toMatchObject({ mountPath: fleet.pki, readOnly: true });
    expect(fleet["image-trust"]).toBe(`${String(fleet.pki)}/image-ca.pem`);
  });

  it("runs as non-root with a read-only root, no privilege escalation, no capability, the runtime's seccomp profile", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  });

  it("asks for at least 150 KiB of memory per AP of fleet.yaml's aps", () => {
    const request = /^(\d+)Mi$/.exec(container.resources?.requests?.memory ?? "");
    expect(Number(request?.[1]) * 1024).toBeGreaterThanOrEqual(Number(fleet.aps) * KIB_PER_AP);
  });

  it("README's commands create the Secret the pods mount, with its three files from vap pki init and vap image keygen, and apply this folder", async () => {
    const commands = readmeCommands("Run a fleet over many nodes (Kubernetes)");
    const create = commands.find((c) => c.startsWith("kubectl create secret generic"));
    expect(create?.split(" ")[4]).toBe(secret!.metadata.name);
    expect([...(create ?? "").matchAll(/--from-file=([^=]+)=/g)].map((m) => m[1]).sort()).toEqual(Object.keys(secret!.stringData).sort());
    // The files it names are the ones README's vap commands write.
    const cwd = tempDir("kubernetes-pki");
    for (const c of commands.filter((c) => c.startsWith("npx vap "))) {
      // `npx vap pki init pki`, `npx vap image keygen keys`: the third word after vap is the folder it writes.
      const argv = c.split(" ").slice(2).map((a, i) => (i === 2 ? join(cwd, a) : a));
      expect(await main(argv, { stdout: () => undefined, stderr: () => undefined }), c).toBe(0);
    }
    for (const [, file] of (create ?? "").matchAll(/--from-file=[^=]+=(\S+)/g)) expect(existsSync(join(cwd, file!)), file).toBe(true);
    expect(commands).toContain("kubectl apply -k deploy/kubernetes");
    expect(commands).toContain(`kubectl scale statefulset ${statefulSet!.metadata.name} --replicas=8`);
  });

  describe("the checks can fail", () => {
    const broken = (edit: (s: StatefulSet) => void): Manifest[] => {
      const copy = structuredClone(statefulSet!);
      edit(copy);
      return [copy as unknown as Manifest];
    };

    it("rejects a StatefulSet whose replicas is not an integer (schema)", async () => {
      expect(await manifestErrors(broken((s) => Object.assign(s.spec, { replicas: "three" })))).toContainEqual(expect.stringMatching(/spec\/replicas must be integer/));
    });

    it("rejects a field the API does not define (a misspelled runAsNonRoot)", async () => {
      const errors = await manifestErrors(broken((s) => Object.assign(s.spec.template.spec.containers[0]!.securityContext!, { runAsNonroot: true })));
      expect(errors).toContainEqual(expect.stringMatching(/'"runAsNonroot"' does not exist in type 'ISecurityContext'/));
    });

    it("rejects a kind it has no schema for", async () => {
      expect(await manifestErrors([{ apiVersion: "apps/v1", kind: "StatefulSets", metadata: { name: "x" } }])).toEqual(["StatefulSets x: no Kubernetes schema for kind StatefulSets in apiVersion apps/v1"]);
    });

    it("flags a container without an image (the API allows it; the fleet would never start)", async () => {
      const imageless = broken((s) => delete s.spec.template.spec.containers[0]!.image);
      expect(imagelessContainers(imageless)).toEqual(["vap-fleet/vap"]);
      expect(imagelessContainers(docs)).toEqual([]);
    });
  });
});
