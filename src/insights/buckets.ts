/** Report buckets: UTC days or hours, as ms (the stores bucket call starts with integer arithmetic on ms). */
export const BUCKET_MS = { day: 86_400_000, hour: 3_600_000 } as const;
export type Bucket = keyof typeof BUCKET_MS;
