import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileEventFilter } from '../../../src/policy/events.ts';
import { destinationFrom, SEGMENT_TYPE, segment, typeOf } from './support.ts';

function outcome(events: string, event: Record<string, unknown>): string {
  return destinationFrom(`    events: ${events}\n`).compile(SEGMENT_TYPE).apply(segment(event)).outcome;
}

describe('event filters', () => {
  test('allow by track event name', () => {
    assert.equal(outcome('{ allow: ["Provider Search"] }', { event: 'Provider Search' }), 'delivered');
    assert.equal(outcome('{ allow: ["Provider Search"] }', { event: 'Appointment Booked' }), 'filtered');
  });
  test('allow by call type', () => {
    assert.equal(outcome('{ allow: [page] }', { type: 'page', name: 'Home' }), 'delivered');
    assert.equal(outcome('{ allow: [page] }', { type: 'identify' }), 'filtered');
  });
  test('page/screen names come from `name`, track names from `event`', () => {
    assert.equal(
      outcome('{ allow: ["Find a Doctor"] }', { type: 'page', name: 'Find a Doctor' }),
      'delivered',
    );
    assert.equal(
      outcome('{ allow: ["Find a Doctor"] }', { type: 'identify', name: 'Find a Doctor' }),
      'filtered',
    );
  });
  test('drop wins over allow', () => {
    assert.equal(
      outcome('{ allow: [track], drop: ["Prescription Filled"] }', { event: 'Prescription Filled' }),
      'filtered',
    );
    assert.equal(
      outcome('{ allow: [track], drop: ["Prescription Filled"] }', { event: 'Provider Search' }),
      'delivered',
    );
  });
  test('no allow list: every event except the dropped ones', () => {
    assert.equal(outcome('{ drop: [identify] }', { type: 'identify' }), 'filtered');
    assert.equal(outcome('{ drop: [identify] }', { type: 'group' }), 'delivered');
  });
  test('the filtered decision names the event and lists no field', () => {
    const d = destinationFrom('    events: { drop: [track] }\n');
    const r = d.compile(SEGMENT_TYPE).apply(segment({ event: 'Provider Search' }));
    assert.equal(r.outcome, 'filtered');
    assert.equal(r.decision.eventType, 'track');
    assert.equal(r.decision.eventName, 'Provider Search');
    assert.deepEqual(r.decision.fields, {});
    assert.deepEqual(r.decision.kids, []);
    assert.equal('value' in r, false);
  });
  test('a schema without type/event/name fields: null identity, filtered by any allow list', () => {
    const t = typeOf({ type: 'record', name: 'Bare', fields: [{ name: 'x', type: 'string' }] });
    const rec = t.clone({ x: 'a' });
    const open = destinationFrom('    fields: { x: allow }\n').compile(t).apply(rec);
    assert.equal(open.outcome, 'delivered');
    assert.equal(open.decision.eventType, null);
    assert.equal(open.decision.eventName, null);
    assert.equal(
      destinationFrom('    events: { allow: [track] }\n').compile(t).apply(rec).outcome,
      'filtered',
    );
  });
  test('compileEventFilter on its own', () => {
    const f = compileEventFilter(['a', 'page'], ['b']);
    assert.equal(f('page', 'b'), false);
    assert.equal(f('track', 'a'), true);
    assert.equal(f(null, null), false);
    assert.equal(compileEventFilter(null, [])(null, null), true);
  });
});
