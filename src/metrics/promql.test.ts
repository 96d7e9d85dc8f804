import { requestsByCode, serviceAndDerived, type RequestMetric } from './promql.js';

describe('PromQL builders', () => {
  it("counts a mesh's requests by its own counter and code label, exact and regular-expression matchers, in one namespace", () => {
    const linkerdLike: RequestMetric = { counter: 'response_total', codeLabel: 'status_code', select: (s, ns) => ({ direction: 'outbound', dst_service: { re: serviceAndDerived(s) }, dst_namespace: ns }) };
    expect(requestsByCode('reviews', linkerdLike, 'meshcheck-r1')).toBe('sum by (status_code) (response_total{direction="outbound",dst_service=~"reviews(-.+)?",dst_namespace="meshcheck-r1"})');
  });

  it('escapes what a regular expression would read as syntax, and a backslash for the PromQL string', () => {
    expect(serviceAndDerived('a.b')).toBe('a\\.b(-.+)?');
    expect(requestsByCode('x', { counter: 'c', codeLabel: 'code', select: () => ({ n: { re: 'ns/x\\|9080' } }) })).toBe('sum by (code) (c{n=~"ns/x\\\\|9080"})');
  });
});
