import { requestsByCode } from './promql.js';

describe('PromQL builders', () => {
  it('counts requests by code from the source reporter', () => {
    expect(requestsByCode('reviews')).toBe('sum by (response_code) (istio_requests_total{reporter="source",destination_service_name="reviews"})');
  });
});
