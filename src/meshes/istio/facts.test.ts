import { requestsByCode } from '../../metrics/promql.js';
import { ISTIO_REQUESTS } from './facts.js';

describe("Istio's request metric", () => {
  it('counts requests by code from the source reporter', () => {
    expect(requestsByCode('reviews', ISTIO_REQUESTS)).toBe('sum by (response_code) (istio_requests_total{reporter="source",destination_service_name="reviews"})');
  });
});
