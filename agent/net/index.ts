/** Datagram sockets: Node UDP for real use, a native batched UDP socket for bulk transfers, an in-memory network for tests. */
export { bindUdp, endpointKey, localAddressToward, type DatagramSocket, type DatagramHandler, type Endpoint, type UdpOptions } from "./socket.js";
export { DEFAULT_LINK_MTU, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD, ipUdpOverhead } from "./mtu.js";
export { bindNativeUdp, DEFAULT_RECEIVE_BATCH, MAX_UDP_PAYLOAD, type NativeDatagramSocket, type NativeUdpOptions, type NativeUdpStats } from "./udp-native.js";
export { MemoryNetwork, type InFlight, type NetworkFilter } from "./memory.js";
export { listenPrivateSocket, type UnixSocketLabel } from "./unix-socket.js";
export { sharedPortBinder, type Channel } from "./shared-port.js";
