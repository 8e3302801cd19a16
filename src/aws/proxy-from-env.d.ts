// proxy-from-env ships no types: its one function, as documented in its README.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from *_PROXY/NO_PROXY (lowercase first), or '' for none. */
  export function getProxyForUrl(url: string | URL): string;
}
