/** Datagram sockets: Node UDP for real use, an in-memory network for tests. */
export { bindUdp, endpointKey, localAddressToward, type DatagramSocket, type DatagramHandler, type Endpoint, type UdpOptions } from "./socket.js";
export { DEFAULT_LINK_MTU, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD, ipUdpOverhead } from "./mtu.js";
export { MemoryNetwork, type InFlight, type NetworkFilter } from "./memory.js";
