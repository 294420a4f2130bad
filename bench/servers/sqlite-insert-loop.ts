/**
 * The durable-send baseline: a bare better-sqlite3 loop inserting one message per transaction
 * (so one WAL fsync per insert with synchronous=FULL) for `--seconds`, in a fresh database in
 * `--dir`. Prints `{"msg":"done","inserts":N,"seconds":S}` on stdout.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    synchronous: { type: 'string', default: 'FULL' },
  },
});
if (values.dir === undefined) throw new Error('--dir is required');
if (values.synchronous !== 'FULL' && values.synchronous !== 'NORMAL') {
  throw new Error('--synchronous must be FULL or NORMAL');
}

const db = new Database(join(values.dir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${values.synchronous}`);
db.exec(`CREATE TABLE messages (
  chat_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, sender_id TEXT NOT NULL,
  content TEXT NOT NULL, mobile_ref_id TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (chat_id, seq)) WITHOUT ROWID`);
const insert = db.prepare(
  'INSERT INTO messages VALUES (@chat_id, @seq, @id, @sender_id, @content, @mobile_ref_id, @created_at)',
);

const seconds = Number(values.seconds);
const started = performance.now();
const until = started + seconds * 1000;
let inserts = 0;
while (performance.now() < until) {
  inserts += 1;
  // Autocommit: each run() is its own transaction, committed (and fsynced) before it returns.
  insert.run({
    chat_id: 'room',
    seq: inserts,
    id: `m${inserts}`,
    sender_id: 'sender',
    content: `durable ${inserts}`,
    mobile_ref_id: `r${inserts}`,
    created_at: new Date().toISOString(),
  });
}
const elapsed = (performance.now() - started) / 1000;
db.close();
process.stdout.write(`${JSON.stringify({ msg: 'done', inserts, seconds: elapsed })}\n`);
