/**
 * Retries an assertion until it passes (or the deadline, then throws its last failure). For
 * effects that follow a response rather than precede it: Fastify's onResponse hook (metrics, the
 * request log line) runs when the server has finished writing, which the client may see first.
 */
export async function eventually<T>(assertion: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Waits until every response the app sent has been accounted for (the in-flight gauge drops when
 * a response closes, after the onResponse hook ran).
 */
export async function responsesSettled(): Promise<void> {
  const { register } = await import('prom-client');
  await eventually(async () => {
    const gauge = register.getSingleMetric('masa_http_requests_in_flight');
    const value = (await gauge?.get())?.values[0]?.value;
    if (value !== 0) throw new Error(`${value} responses in flight`);
  });
}
