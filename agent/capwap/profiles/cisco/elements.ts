/**
 * Cisco vendor elements (Vendor Specific Payload, vendor id 4232704).
 * Layouts marked [inf] are our inference; keep every guess here.
 */
import { u32, u8, utf8, vendorElement } from "../../codec/index.js";

export const CISCO_VENDOR_ID = 4232704;

export const CiscoRadName = vendorElement(CISCO_VENDOR_ID, 5, "CiscoRadName", "Cisco RAD Name", { name: utf8 });
export const CiscoApTimeSync = vendorElement(CISCO_VENDOR_ID, 151, "CiscoApTimeSync", "Cisco AP Time Sync", { timestamp: u32, type: u8 });

export const ciscoVendorElements = [CiscoRadName, CiscoApTimeSync] as const;
