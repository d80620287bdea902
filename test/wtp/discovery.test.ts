import { afterEach, describe, expect, it } from "vitest";
import { chooseController, type AcCandidate } from "../../agent/capwap/wtp/index.js";
import { SimLab } from "../support/sim-lab.js";

const candidate = (address: string, name: string, activeWtps: number, maxWtps = 100, order = 0): AcCandidate => ({
  from: { address, port: 5246 },
  summary: { name, activeWtps, maxWtps, stations: 0, stationLimit: 1000 },
  order,
});

describe("choosing a controller (RFC 5415 §3.3; Cisco primary/secondary/tertiary)", () => {
  const a = candidate("10.0.0.1", "wlc-a", 90, 100, 0);
  const b = candidate("10.0.0.2", "wlc-b", 10, 100, 1);
  const c = candidate("10.0.0.3", "wlc-c", 10, 100, 2);

  it("prefers named controllers in the order given", () => {
    expect(chooseController([a, b, c], [{ name: "wlc-c" }, { name: "wlc-a" }])).toBe(c);
    expect(chooseController([a, b], [{ name: "wlc-c" }, { name: "wlc-a" }])).toBe(a);
  });

  it("otherwise takes the least loaded, the first to answer on a tie", () => {
    // A controller listed without a name is no preference.
    expect(chooseController([a, b, c], [{}])).toBe(b);
    expect(chooseController([candidate("10.0.0.4", "x", 50, 1000, 0), candidate("10.0.0.5", "y", 10, 100, 1)], [])).toBeDefined();
    expect(chooseController([candidate("10.0.0.4", "x", 50, 1000, 0), candidate("10.0.0.5", "y", 10, 100, 1)], [])!.summary.name).toBe("x");
  });

  it("has nothing to choose from no answers", () => {
    expect(chooseController([], [{ name: "wlc-a" }])).toBeUndefined();
  });
});

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

describe("discovery on the simulated network", () => {
  /** wlc-a (the lab's controller) already carries 3 APs; wlc-b on 10.0.0.2 carries none. */
  async function twoControllers(config: Record<string, unknown>, extra: Partial<ConstructorParameters<typeof SimLab>[0]> = {}) {
    const lines: string[] = [];
    lab = new SimLab({ aps: 4, lines, controller: { name: "wlc-a" }, apConfig: (i) => (i < 3 ? {} : config), ...extra });
    const wlcB = lab.newController("10.0.0.2", { name: "wlc-b" });
    const [first, second, third, newcomer] = lab.wtps;
    await first!.start();
    await second!.start();
    await third!.start();
    await lab.runUntil(() => [first, second, third].every((w) => w!.state === "Run"));
    await newcomer!.start();
    await lab.runUntil(() => newcomer!.state === "Run", 10_000);
    return { newcomer: newcomer!, wlcB, lines };
  }

  it("broadcast discovery finds both controllers and joins the less loaded one", async () => {
    const { newcomer, wlcB, lines } = await twoControllers({ controllers: [], discovery: { broadcast: true } });
    expect(newcomer.controller?.name).toBe("wlc-b");
    expect(wlcB.aps()).toHaveLength(1);
    expect(lines.some((l) => l.includes("Discovery Request sent to 255.255.255.255, discovery type UNKNOWN(0)"))).toBe(true);
    expect(lines.filter((l) => l.startsWith(newcomer.name) && l.includes("Discovery Response from")).length).toBe(2);
  });

  it("a named primary controller wins over load", async () => {
    const { newcomer } = await twoControllers({ controllers: [{ address: "10.0.0.1", name: "wlc-a" }], discovery: { broadcast: true } });
    expect(newcomer.controller?.name).toBe("wlc-a");
  });

  it("DNS discovery resolves CISCO-CAPWAP-CONTROLLER.<domain>", async () => {
    const asked: string[] = [];
    const resolve = async (name: string) => {
      asked.push(name);
      return ["10.0.0.2"];
    };
    const { newcomer, lines } = await twoControllers(
      { controllers: [], discovery: { dnsDomain: "lab.example" } },
      { wtp: (i) => (i === 3 ? { network: { bind: () => lab!.network.bind("10.0.9.9"), resolve } } : {}) },
    );
    expect(asked).toEqual(["CISCO-CAPWAP-CONTROLLER.lab.example"]);
    expect(newcomer.controller?.name).toBe("wlc-b");
    expect(lines.some((l) => l.includes("Discovery Request sent to 10.0.0.2, discovery type DNS(3)"))).toBe(true);
  });
});
