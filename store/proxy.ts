import { BlockList, isIP } from 'node:net';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';

/** The agents that send an S3 client's requests through a proxy. */
export interface ProxyAgents {
  httpAgent: HttpProxyAgent;
  httpsAgent: HttpsProxyAgent;
  /** The proxy, without any user and password written into it: for messages. */
  shown: string;
}

/**
 * The proxy for requests to `target` named by the environment, as curl reads it: https_proxy or
 * http_proxy by the target's scheme, then all_proxy (upper case too; a proxy written without a
 * scheme is http://), unless no_proxy names the target's host, a domain of it, its IP address or
 * a network of it (10.0.0.0/8), or is *. Node, and so the AWS SDK, reads none of these. A
 * loopback target is never proxied (as Go's clients do): a proxy cannot reach this machine's
 * loopback, where a test server or a local S3 listens.
 */
export function proxyAgentsFor(target: string, env: NodeJS.ProcessEnv = process.env): ProxyAgents | undefined {
  const { protocol, hostname } = new URL(target);
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const scheme = protocol.slice(0, -1);
  const proxy = variable(env, `${scheme}_proxy`) ?? variable(env, 'all_proxy');
  if (!proxy || isLoopback(host) || bypassed(host, variable(env, 'no_proxy') ?? '')) return undefined;
  let url: URL;
  try {
    url = new URL(proxy.includes('://') ? proxy : `http://${proxy}`);
  } catch {
    throw new Error(`the proxy for ${scheme}:// requests (${scheme}_proxy or all_proxy) is no URL: write http://HOST:PORT`);
  }
  const shown = `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the proxy ${shown} for ${scheme}:// requests is not an http:// or https:// proxy (SOCKS is not supported)`);
  const options = { proxy: url, keepAlive: true, maxSockets: 50 };
  return { httpAgent: new HttpProxyAgent(options), httpsAgent: new HttpsProxyAgent(options), shown };
}

function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name] || env[name.toUpperCase()] || undefined;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Whether a no_proxy list (commas or blanks between entries) names `host`. */
function bypassed(host: string, noProxy: string): boolean {
  for (const entry of noProxy.toLowerCase().split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') return true;
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      if (inNetwork(host, cidr[1]!, Number(cidr[2]))) return true;
      continue;
    }
    let name = entry.replace(/^\*?\./, '');
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(name);
    if (bracketed) name = bracketed[1]!;
    else if (!isIP(name)) name = name.replace(/:\d+$/, '');
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

function inNetwork(host: string, address: string, prefix: number): boolean {
  const version = isIP(address);
  if (version === 0 || isIP(host) !== version || prefix > (version === 4 ? 32 : 128)) return false;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const network = new BlockList();
  network.addSubnet(address, prefix, family);
  return network.check(host, family);
}
