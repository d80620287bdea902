import { afterEach, describe, expect, it } from "vitest";
import { bindUdp, type DatagramSocket, sharedPortBinder } from "../../agent/net/index.js";

const open: DatagramSocket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function bound(): Promise<DatagramSocket> {
  const s = await bindUdp({ address: "127.0.0.1" });
  open.push(s);
  return s;
}

const received = (s: DatagramSocket) => {
  const got: string[] = [];
  s.onMessage((d, from) => got.push(`${Buffer.from(d).toString()} from ${from.port}`));
  return got;
};
const settle = () => new Promise((r) => setTimeout(r, 50));

describe("one UDP port for a WTP's control and data channels", () => {
  it("sends both channels from one port and hands each datagram to the channel its source port names", async () => {
    const controlPeer = await bound();
    const dataPeer = await bound();
    const bind = sharedPortBinder(() => bindUdp({ address: "127.0.0.1" }), dataPeer.local.port);
    const control = await bind("control");
    const data = await bind("data");
    expect(data.local).toEqual(control.local);
    const atControlPeer = received(controlPeer);
    const atDataPeer = received(dataPeer);
    const onControl = received(control);
    const onData = received(data);
    control.send(Buffer.from("c1"), controlPeer.local);
    data.send(Buffer.from("d1"), dataPeer.local);
    controlPeer.send(Buffer.from("c2"), control.local);
    dataPeer.send(Buffer.from("d2"), control.local);
    await settle();
    expect(atControlPeer).toEqual([`c1 from ${control.local.port}`]);
    expect(atDataPeer).toEqual([`d1 from ${control.local.port}`]);
    expect(onControl).toEqual([`c2 from ${controlPeer.local.port}`]);
    expect(onData).toEqual([`d2 from ${dataPeer.local.port}`]);

    // The socket stays open while one channel does; the last close frees the port.
    control.close();
    dataPeer.send(Buffer.from("d3"), data.local);
    await settle();
    expect(onData).toHaveLength(2);
    data.close();
    const again = await bindUdp({ address: "127.0.0.1", port: data.local.port });
    open.push(again);
    expect(again.local.port).toBe(data.local.port);
  });
});
