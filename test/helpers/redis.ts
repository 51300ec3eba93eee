/** A real redis-server per test (the load test's own helper). */
export { RedisServer } from '../../loadtest/RedisProcess.js';
