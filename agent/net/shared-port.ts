/**
 * One UDP socket for both CAPWAP channels of a WTP: control and data leave
 * from the same local port, and what arrives is told apart by where it
 * came from — the controller's data port (5247) is the data channel,
 * anything else the control channel. A fleet of 10,000 APs in one process
 * then needs 10,000 descriptors, not 20,000 (the hard limit here is 20,000).
 * RFC 5415 fixes the AC's ports, not the WTP's.
 */
import type { DatagramHandler, DatagramSocket } from "./socket.js";

export type Channel = "control" | "data";

/** A binder for Wtp's network.bind: the first call binds one socket, each channel gets a view of it; the socket closes with the last view. */
export function sharedPortBinder(bind: () => Promise<DatagramSocket>, dataPort: number): (channel: Channel) => Promise<DatagramSocket> {
  let socket: Promise<DatagramSocket> | undefined;
  const handlers: Record<Channel, DatagramHandler> = { control: () => {}, data: () => {} };
  const open = new Set<Channel>();
  return async (channel) => {
    socket ??= bind().then((s) => {
      s.onMessage((datagram, from) => handlers[from.port === dataPort ? "data" : "control"](datagram, from));
      return s;
    });
    const shared = await socket;
    open.add(channel);
    return {
      local: shared.local,
      send: (data, to) => shared.send(data, to),
      onMessage: (handler) => void (handlers[channel] = handler),
      close: () => {
        if (!open.delete(channel)) return;
        handlers[channel] = () => {};
        if (open.size === 0) shared.close();
      },
    };
  };
}
