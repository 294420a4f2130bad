/**
 * Message search (Parley only; the peers have none): `messages` messages over `rooms` rooms are
 * sent over HTTP by one user, then searched over HTTP, one search at a time. Reports the time
 * of the first search right after the last send (it indexes what the background indexer has
 * not reached yet), latency per kind of query, and the relay's CPU per search.
 */
import type { SearchConfig, SearchQueryResult, SearchResult } from '../config.js';
import { cpuSeconds, rssBytes } from '../proc-stats.js';
import { getJson, inParallel, postJson } from './clients.js';
import { percentiles, sleep } from './stats.js';

/** Concurrent senders while seeding. */
const SEEDERS = 64;
/** Searches per kind of query. */
const SEARCHES = 40;
/** One message in COMMON_EVERY holds the word "status". */
const COMMON_EVERY = 10;
const TOPICS = ['deploy', 'budget', 'lunch', 'review', 'incident', 'roadmap', 'hiring', 'design'];

function content(n: number): string {
  const topic = TOPICS[n % TOPICS.length] ?? 'misc';
  const common = n % COMMON_EVERY === 0 ? ' status' : '';
  return `${topic} update${common}: item ref${n} is on track for the next milestone`;
}

export async function runSearch(config: SearchConfig): Promise<SearchResult> {
  const base = config.target.httpUrl;
  if (base === null) throw new Error('search needs the HTTP API');
  const { token } = await postJson<{ token: string }>(`${base}/api/session`, {
    name: 'Searcher',
    device_unique_id: 'bench-search',
  });
  const rooms: string[] = [];
  for (let r = 0; r < config.rooms; r += 1) {
    const { chat } = await postJson<{ chat: { id: string } }>(
      `${base}/api/chats`,
      { name: `search-${r}`, visibility: 'public' },
      token,
    );
    rooms.push(chat.id);
  }

  const seedStarted = performance.now();
  await inParallel(config.messages, SEEDERS, (n) =>
    postJson(
      `${base}/api/chats/${rooms[n % rooms.length] ?? ''}/messages`,
      { content: content(n), mobile_ref_id: `s${n}` },
      token,
    ),
  );
  const seedS = (performance.now() - seedStarted) / 1000;

  const search = async (query: string): Promise<{ ms: number; count: number }> => {
    const started = performance.now();
    const page = await getJson<{ messages: unknown[] }>(`${base}/api/search?${query}`, token);
    return { ms: performance.now() - started, count: page.messages.length };
  };
  const last = config.messages - 1;
  const first = await search(`q=ref${last}`);
  if (first.count !== 1) throw new Error(`the last message was not found (${first.count})`);
  // Let the background indexer finish before the latency runs.
  await sleep(2_000);

  const kinds: [name: string, query: (i: number) => string, matches: string][] = [
    ['one match', (i) => `q=ref${(i * 7_919) % config.messages}`, '1'],
    ['common word', () => 'q=status', `${100 / COMMON_EVERY}%`],
    ['prefix', () => 'q=stat', `${100 / COMMON_EVERY}%`],
    [
      'two words',
      (i) => `q=${TOPICS[i % TOPICS.length] ?? ''}+status`,
      `${100 / COMMON_EVERY / TOPICS.length}%`,
    ],
    ['no match', () => 'q=zyzzyva', '0'],
    [
      'common word, one room',
      () => `q=status&chat_id=${rooms[0] ?? ''}`,
      `${100 / COMMON_EVERY / rooms.length}%`,
    ],
  ];
  const queries: SearchQueryResult[] = [];
  const cpu0 = cpuSeconds(config.target.serverPids);
  for (const [name, query, matches] of kinds) {
    const times = new Float64Array(SEARCHES);
    for (let i = 0; i < SEARCHES; i += 1) times[i] = (await search(query(i))).ms;
    const latency = percentiles(times);
    queries.push({ name, matches, p50Ms: latency.p50, p99Ms: latency.p99 });
  }
  const cpuS = cpuSeconds(config.target.serverPids) - cpu0;
  return {
    kind: 'search',
    messages: config.messages,
    rooms: config.rooms,
    seedS,
    firstSearchMs: first.ms,
    queries,
    cpuPerSearchUs: (cpuS * 1e6) / (SEARCHES * kinds.length),
    rssMb: rssBytes(config.target.serverPids) / 2 ** 20,
  };
}
