import { latencyQuantile, requestsByCode, successRate } from './promql.js';

describe('PromQL builders', () => {
  it('counts requests by code from the source reporter', () => {
    expect(requestsByCode('reviews')).toBe('sum by (response_code) (istio_requests_total{reporter="source",destination_service_name="reviews"})');
  });
  it('builds the success rate over a window', () => {
    expect(successRate('reviews', 60)).toBe(
      'sum(increase(istio_requests_total{reporter="source",destination_service_name="reviews",response_code!~"5.."}[60s])) / sum(increase(istio_requests_total{reporter="source",destination_service_name="reviews"}[60s]))',
    );
  });
  it('builds a histogram quantile', () => {
    expect(latencyQuantile('ratings', 0.99, 30)).toBe('histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="source",destination_service_name="ratings"}[30s])))');
  });
});
