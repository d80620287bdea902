/** The console's limits and defaults, once. */

/** The longest line a session reads: IOS's own line buffer is 255 characters; a URL with credentials fits well under this. */
export const MAX_LINE_CHARS = 1024;

/** Failed logins before the session ends (IOS: three tries, then the line closes). */
export const MAX_LOGIN_TRIES = 3;

/** Wrong enable secrets before `enable` gives up (`% Bad secrets`). */
export const MAX_ENABLE_TRIES = 3;

/** IOS's default exec-timeout: 10 minutes. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;

/** The AP's console lines `show logging` can show: the last this many. */
export const LOG_RING_LINES = 1000;

/** A real unjoined AP's factory login and enable secret (Cisco/Cisco, enable Cisco). */
export const FACTORY_LOGIN = { username: "Cisco", password: "Cisco", enableSecret: "Cisco" } as const;

/** The reload dialog unicon's cheetah plugin answers. */
export const RELOAD_CONFIRM = "Proceed with reload command (cold)? [confirm]";

/**
 * [inf] The CAPWAP Path MTU a real AP shows before it joins (576: the IPv4
 * datagram every host must take, RFC 791), until the control channel knows its own.
 */
export const UNJOINED_PATH_MTU = 576;
