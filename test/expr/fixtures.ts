// A small slice environment and a hand-built stop, shared by the expression tests.
import type { CheckEnv } from '../../src/core/expr/env';
import type { ExprCandidate, ExprScope } from '../../src/core/expr/scope';

export const env: CheckEnv = {
  schema: {
    user: { age: 'number', country: 'string' },
    item: { category: 'string', price: 'number' },
    context: { device: 'string', page: 'string' },
    candidate: { ctr_7d: 'number', ctr_30d: 'number', age_days: 'number', fresh: 'boolean' },
  },
  metrics: ['hit_rate@10', 'ctr', 'ndcg@10'],
  itemIds: new Set(['i_7', 'i_42', 'i_99', 'i_100']),
};

function cand(item: string, score: number, rank: number, recordedRank: number, features: ExprCandidate['features']): ExprCandidate {
  return { item, score, rank, recordedRank, prevRank: rank === 1 ? null : rank - 1, features, meta: { source: 'ann' } };
}

/** Three candidates: i_42 replayed first (recorded third), i_7 second (recorded first), i_99 third. */
export function makeScope(overrides: Partial<ExprScope> = {}): ExprScope {
  return {
    event: { id: 'e000532', t: '2025-07-21T09:12:03.120Z', user: 'u_9f3a', session: 's_12', index: 532, line: 532, extra: { note: 'x' } },
    user: { id: 'u_9f3a', segment: 'new', features: { age: 31, country: 'fr' } },
    context: { device: 'ios', page: 'home' },
    candidates: [
      cand('i_42', 0.82, 1, 3, { ctr_7d: 0.031, ctr_30d: 0.02, age_days: 1, fresh: true, category: 'outdoor', price: 20 }),
      cand('i_7', 0.75, 2, 1, { ctr_7d: 0.12, ctr_30d: 0.1, age_days: 40, fresh: false, category: 'books', price: 8 }),
      cand('i_99', 0.1, 3, 2, { ctr_7d: 0.001, ctr_30d: null, age_days: 3, fresh: true, category: 'outdoor', price: 55 }),
    ],
    served: ['i_42', 'i_7'],
    outcome: { clicks: ['i_7'], dwellMs: { i_7: 31000 } },
    system: { latencyMs: { retrieve: 12, features: 48, score: 20, rerank: 3 }, queueDepth: 17, cache: { hits: 40, misses: 3 }, fallback: false },
    stage: 'rerank',
    metrics: { 'hit_rate@10': 0.2, ctr: 0.05, 'ndcg@10': 0.31 },
    featureAge: (name, item) => (name === 'ctr_7d' ? (item === 'i_7' ? 7200 : 3600) : null),
    ...overrides,
  };
}
