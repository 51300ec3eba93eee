/**
 * The worker thread that owns the SQLite call-record database (SqliteRecords)
 * so that its synchronous queries never run on the gateway's event loop. One
 * request at a time, in arrival order; see SqliteCallRecordStore for the other end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteRecords } from './SqliteRecords.js';
import type { SqliteRequest, SqliteResponse } from './sqliteProtocol.js';

const port = parentPort;
if (port === null) throw new Error('sqliteWorker.js runs as a worker thread');
let records: SqliteRecords | undefined;

function handle(request: SqliteRequest): unknown {
  if (request.method === 'close') {
    records?.close();
    records = undefined;
    return undefined;
  }
  records ??= new SqliteRecords((workerData as { file: string }).file);
  switch (request.method) {
    case 'migrate':
      return records.migrate();
    case 'write':
      return records.write(...request.args);
    case 'get':
      return records.get(...request.args);
    case 'erase':
      return records.erase(...request.args);
    case 'purgeTranscripts':
      return records.purgeTranscripts(...request.args);
    case 'reasonBuckets':
      return records.reasonBuckets(...request.args);
    case 'ping':
      return records.ping();
  }
}

port.on('message', (request: SqliteRequest) => {
  let response: SqliteResponse;
  try {
    response = { id: request.id, ok: true, value: handle(request) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    // A failed open (folder not writable, disk missing) leaves `records` unset: the next request tries again.
    response = { id: request.id, ok: false, error: { name: e.name, message: e.message, code: (e as { code?: unknown }).code === undefined ? undefined : String((e as { code?: unknown }).code) } };
  }
  port.postMessage(response);
});
