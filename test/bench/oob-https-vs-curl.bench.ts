/**
 * oob.https-vs-curl: the AP's out-of-band HTTPS download against curl, side
 * by side in one run: the same image from the same controller HTTPS server
 * (the embedded one, then nginx), across the same `vap wan --link` at 100 ms
 * RTT with 0 % and with 1 % loss (TCP segments really lost between the "wlc"
 * and "ap" namespaces, oob-rig.ts). The AP is OobImageSource in its own
 * process in ap (a bearer token the controller issued for its address, the
 * controller's CA the only trust, into a sink that only hashes, no disk);
 * curl is `curl --cacert -H "Authorization: Bearer …" -o /dev/null` in ap
 * with the same token, so neither writes a file. Each side's own time, from
 * its request (connect) to its last byte: the AP's from the source's fetch
 * to the sink's finish (its MD5 check included), curl's time_total. Rounds
 * alternate which goes first; medians. Value: the AP's speed / curl's
 * (target ≥ 0.95), one line per server and link.
 */
import { OOB_SERVER_KINDS } from "../../lab/controller/oob/index.js";
import { acrossLink, mbPerS } from "./netns-link.js";
import { OobRig } from "./oob-rig.js";
import { median, report } from "./report.js";

const ROUNDS = 5;
const IMAGE = "ap1g8";
/**
 * 24 MiB, a third of a realistic image: TCP's window has opened (at 100 ms
 * RTT an 8 MiB download ends while it still grows), and 40 downloads (two
 * servers, two links, two clients, five rounds) take under two minutes.
 */
const IMAGE_BYTES = 24 * 1024 * 1024;
const LINKS = [
  { name: "tun-100ms-rtt", loss: 0 },
  { name: "tun-100ms-rtt-1pct-loss", loss: 0.01 },
] as const;

const rig = OobRig.create({ [IMAGE]: IMAGE_BYTES });
try {
  for (const kind of OOB_SERVER_KINDS) {
    for (const link of LINKS) {
      const flags = ["--delay", "50ms", "--loss", `${link.loss * 100}%`];
      const { result, dropped } = await acrossLink(rig.ns, flags, async () => {
        const server = await rig.server(kind);
        try {
          const offer = server.offers[IMAGE]!;
          const ap: number[] = [];
          const curl: number[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            const apFirst = round % 2 === 0;
            if (apFirst) ap.push(rig.apDownload(offer, IMAGE));
            curl.push(rig.curlDownload(offer, IMAGE));
            if (!apFirst) ap.push(rig.apDownload(offer, IMAGE));
          }
          return { ap, curl };
        } finally {
          await server.stop();
        }
      });
      report({
        bench: "oob.https-vs-curl",
        value: Math.round((median(result.curl) / median(result.ap)) * 100) / 100,
        unit: `x curl's speed (the AP's OOB HTTPS download vs curl, same ${kind} server, vap wan --link ${flags.join(" ")}, ${IMAGE_BYTES} B, median of ${ROUNDS})`,
        bound: 0.95,
        boundKind: "peer:curl",
        server: kind,
        link: link.name,
        apMBps: mbPerS(IMAGE_BYTES, median(result.ap)),
        curlMBps: mbPerS(IMAGE_BYTES, median(result.curl)),
        apRoundsMBps: result.ap.map((ms) => mbPerS(IMAGE_BYTES, ms)),
        curlRoundsMBps: result.curl.map((ms) => mbPerS(IMAGE_BYTES, ms)),
        linkDroppedToServer: dropped.aToB,
        linkDroppedFromServer: dropped.bToA,
      });
    }
  }
} finally {
  rig.remove();
}
