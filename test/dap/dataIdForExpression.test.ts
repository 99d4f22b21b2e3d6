import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataIdForExpression } from '../../src/debugAdapter/evaluate';

test('break on value change of a watch names what the expression reads: escapes decoded, either quote, comments ignored', () => {
  assert.equal(dataIdForExpression('score("i_42")'), 'score:i_42');
  assert.equal(dataIdForExpression(String.raw`score("i_\x34\x32")`), 'score:i_42', 'score("i_\\x34\\x32") is the score of i_42');
  assert.equal(dataIdForExpression(`rank('it"s')`), 'rank:it"s');
  assert.equal(dataIdForExpression('score("i_42") // the hero'), 'score:i_42');
  assert.equal(dataIdForExpression(`feature("i_42", 'ctr_7d')`), 'feature:i_42.ctr_7d');
  assert.equal(dataIdForExpression(' metrics.ctr '), 'metric:ctr');
  assert.equal(dataIdForExpression(`metrics['hit_rate@10']`), 'metric:hit_rate@10');
  assert.equal(dataIdForExpression('metric:ctr'), 'metric:ctr', 'an id itself');
});

test('break on value change is not offered for text that is no expression or reads something else', () => {
  // Mismatched quotes: no expression, so no score to watch (it watched score:i_42).
  assert.equal(dataIdForExpression(`score("i_42')`), undefined);
  assert.equal(dataIdForExpression(`metrics["ctr']`), undefined);
  assert.equal(dataIdForExpression('score("i_42") + 1'), undefined);
  assert.equal(dataIdForExpression('score(user.id)'), undefined);
  assert.equal(dataIdForExpression('recordedRank("i_42")'), undefined);
});
