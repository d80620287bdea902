/** Datagram sockets: Node UDP for real use, an in-memory network for tests. */
export { bindUdp, endpointKey, localAddressToward, type DatagramSocket, type DatagramHandler, type Endpoint, type UdpOptions } from "./socket.js";
export { MemoryNetwork, type InFlight, type NetworkFilter } from "./memory.js";
