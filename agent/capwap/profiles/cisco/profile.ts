import { ElementTable, ieee80211Elements, rfc5415Elements } from "../../codec/index.js";
import type { VendorProfile } from "../profile.js";
import { ciscoLayoutOverrides, ciscoVendorElements } from "./elements.js";

export const ciscoProfile: VendorProfile = {
  name: "cisco",
  elements: new ElementTable([...rfc5415Elements, ...ieee80211Elements, ...ciscoVendorElements, ...ciscoLayoutOverrides]),
};
