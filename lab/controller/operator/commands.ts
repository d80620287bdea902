/** The controller's operator commands, in Cisco's words: the tree the grammar walks, and `help`. */
import { type Answer, commandList, interpret, type CaretPlace, type Node } from "../../../agent/console/index.js";
import {
  apConfigGeneral,
  apImage,
  apNameImage,
  apPrimaryList,
  apSummary,
  apUptime,
  fileTransferHttpsSummary,
  imageDownloadStats,
  type OperatorContext,
  predownloadSite,
  resetSite,
  swapSite,
  upgradeMethod,
} from "./views.js";

type C = OperatorContext;

const leaf = (run: (c: C, args: readonly string[]) => Answer): Node<C> => ({ run });

const SHOW: Node<C> = {
  words: {
    ap: {
      help: "Display AP related information",
      node: {
        words: {
          summary: { help: "Summary of all connected Access Points", node: leaf(apSummary) },
          name: {
            help: "Show AP info by name",
            node: {
              argument: {
                name: "WORD",
                help: "Enter the name of the AP",
                node: {
                  words: {
                    config: { help: "Show AP config", node: { words: { general: { help: "Show AP general config", node: leaf((c, [name]) => apConfigGeneral(c, name!)) } } } },
                    image: { help: "Show AP image information", node: leaf((c, [name]) => apNameImage(c, name!)) },
                  },
                },
              },
            },
          },
          uptime: { help: "Show AP and association up time", node: leaf(apUptime) },
          upgrade: { help: "AP upgrade", node: { words: { method: { help: "AP image upgrade method", node: leaf(upgradeMethod) } } } },
          "file-transfer": {
            help: "AP file transfer",
            node: { words: { https: { help: "HTTPS file transfer", node: { words: { summary: { help: "HTTPS file transfer settings", node: leaf(fileTransferHttpsSummary) } } } } } },
          },
          image: { help: "AP image information", node: leaf(apImage) },
          primary: { help: "Efficient upgrade primary APs", node: { words: { list: { help: "Primary AP of each model per site tag", node: leaf(apPrimaryList) } } } },
        },
      },
    },
    wireless: {
      help: "Wireless related information",
      node: {
        words: {
          stats: {
            help: "Wireless statistics",
            node: { words: { ap: { help: "AP statistics", node: { words: { "image-download": { help: "AP image download statistics", node: leaf(imageDownloadStats) } } } } } },
          },
        },
      },
    },
  },
};

/** `… site-tag <site>`, then what follows it. */
const siteTag = (node: Node<C>): Node<C> => ({ words: { "site-tag": { help: "Site tag", node: { argument: { name: "WORD", help: "Enter the site tag name", node } } } } });

/** `ap image …`: the controller acts on a site's APs. */
const AP: Node<C> = {
  words: {
    image: {
      help: "AP image",
      node: {
        words: {
          predownload: { help: "Predownload the image to APs", node: siteTag({ words: { start: { help: "Start the predownload", node: leaf((c, [site]) => predownloadSite(c, site!)) } } }) },
          swap: { help: "Make the predownloaded image the primary one", node: siteTag(leaf((c, [site]) => swapSite(c, site!))) },
          reset: { help: "Reset APs into their primary image", node: siteTag(leaf((c, [site]) => resetSite(c, site!))) },
        },
      },
    },
  },
};

const ROOT: Node<C> = {
  words: {
    show: { help: "Show running system information", node: SHOW },
    ap: { help: "AP image predownload, swap and reset", node: AP },
    help: { help: "Description of the interactive help system", node: leaf(() => help()) },
  },
};

function help(): Answer {
  const lines = ["Commands (any unambiguous abbreviation works, e.g. sh ap sum; ? lists what may come next):", ...commandList(ROOT).map((c) => `  ${c}`)];
  return { ok: true, text: lines.map((l) => `${l}\n`).join("") };
}

/** Run one operator command line against the controller: the text IOS would print, and whether it ran. */
export function operatorCommand(line: string, context: OperatorContext, place?: CaretPlace): Answer {
  return interpret(ROOT, context, line, place);
}
