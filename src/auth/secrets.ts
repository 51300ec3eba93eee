import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether `candidate` equals one of `secrets`, in time independent of where
 * they differ (both sides hashed to equal length first).
 */
export function matchesSecret(candidate: string, secrets: readonly string[]): boolean {
  const digest = createHash('sha256').update(candidate).digest();
  let found = false;
  for (const secret of secrets) {
    if (secret !== '' && timingSafeEqual(digest, createHash('sha256').update(secret).digest())) found = true;
  }
  return found;
}
