// The newest patch release of each Salt line salt-autoscale supports, as Salt's release notes list them
// (docs.saltproject.io/en/3008/topics/releases/). Older patches carry known CVEs: 3006.12 and 3007.4 fixed
// CVE-2024-38822…38825 and CVE-2025-22236…22242, so examples and init's defaults name these releases only.
// Update them as Salt publishes new patch releases.
export const SALT_RELEASES = ['3008.3', '3007.14', '3006.25'] as const;

/** What init proposes for preauth instances when it cannot ask the master (a minion must not be newer). */
export const DEFAULT_SALT_VERSION = '3007.14';
