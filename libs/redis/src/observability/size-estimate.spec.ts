import { estimateBytes } from './size-estimate';

describe('estimateBytes', () => {
  it('is 0 when nothing was sampled', () => {
    expect(estimateBytes([])).toBe(0);
    expect(estimateBytes([{ count: 0, samples: [] }])).toBe(0);
  });

  it("weighs a sampled tenant's records by its own sample mean", () => {
    expect(
      estimateBytes([
        { count: 10, samples: [100, 300] },
        { count: 4, samples: [50] },
      ]),
    ).toBe(10 * 200 + 4 * 50);
  });

  it('weighs an unsampled tenant by the mean of every sample taken', () => {
    expect(
      estimateBytes([
        { count: 2, samples: [100, 200, 300] },
        { count: 5, samples: [] },
      ]),
    ).toBe(2 * 200 + 5 * 200);
  });
});
