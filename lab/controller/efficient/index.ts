/** Efficient image upgrade, the controller's side: site tags and flex profiles, and the primaries' orchestration. */
export { DEFAULT_SITE_TAG, type FlexProfile, type SiteTag, isEfficient, loadSiteTags, normalMac, parseSiteTags, siteTagIndex, triesOf } from "./site-tags.js";
export { type Election, type PredownloadPort, type PredownloadStatus, type PredownloadView, type PrimaryServing, type PrimaryView, SitePredownloads, type SitePredownloadsOptions } from "./site-predownloads.js";
