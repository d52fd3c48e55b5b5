/**
 * Ad-exchange bid logs for the ad-tech seed: Parquet files as an exchange delivers them, many
 * people per file, the buyer's cookie id in the nested column `user.buyeruid` (sometimes in
 * UPPERCASE) and the device's IP and user agent in `device`. Snappy-compressed, 100-row groups.
 */
import type { SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** The few draws bid generation needs from the seed's PRNG. */
export interface BidRandom {
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  hex(length: number): string;
  pick<T>(items: readonly T[]): T;
}

/** One bid's buyer: a cookie id with the device it was seen on. */
export interface Bidder {
  cookieId: string;
  ip: string;
  userAgent: string;
}

const BID_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 7 },
  { name: 'bid_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'ts', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' },
  { name: 'exchange', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'user', repetition_type: 'OPTIONAL', num_children: 1 },
  { name: 'buyeruid', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'device', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'ip', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'ua', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'campaign_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'price', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
];
const COLUMNS = ['bid_id', 'ts', 'exchange', 'user', 'device', 'campaign_id', 'price'] as const;
const EXCHANGES = ['openx', 'xandr', 'magnite', 'pubmatic'] as const;
const ROWS_PER_FILE = 500;
const ROW_GROUP_SIZE = 100;
const DAY_MS = 86_400_000;

/** One bid as the columns hold it (ts in milliseconds as a bigint; user and device structs). */
export type BidRow = Record<(typeof COLUMNS)[number], unknown>;

/** Bid rows as one Snappy-compressed Parquet file of the exchange's schema. */
export function encodeBidRows(rows: BidRow[], rowGroupSize = ROW_GROUP_SIZE): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      schema: BID_SCHEMA,
      columnData: COLUMNS.map((name) => ({ name, data: rows.map((row) => row[name]) })),
      codec: 'SNAPPY',
      rowGroupSize,
      kvMetadata: [{ key: 'exporter', value: 'exchange-bid-export 3.2' }],
    }),
  );
}

/** A bid log object as the seed keeps it. */
export interface BidObject {
  key: string;
  body: Buffer;
  contentType: string;
  lastModified: Date;
}

/**
 * Bid log files of the last two months (some fresh, some past the store's P30D retention): one
 * row per bid in `bids`, about ROWS_PER_FILE rows a file, days and rows in time order.
 */
export function bidLogObjects(
  bids: { bidder: Bidder; campaignId: string }[],
  random: BidRandom,
  nowMs: number,
): BidObject[] {
  if (bids.length === 0) return [];
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  // The first day is fresh under P30D and the second expired, whatever the size; more days spread
  // over the last two months.
  const days = Math.min(60, Math.max(2, Math.ceil(bids.length / ROWS_PER_FILE)));
  const dayOffsets = Array.from({ length: days }, (_, j) =>
    j === 0 ? random.int(1, 7) : j === 1 ? random.int(40, 60) : random.int(1, 60),
  );
  const byDay = new Map<number, { ts: number; row: BidRow }[]>();
  for (const [n, { bidder, campaignId }] of bids.entries()) {
    // The first two bids settle the first two days, so both exist even in the smallest seed.
    const dayStart =
      today - (dayOffsets[n] !== undefined && n < 2 ? dayOffsets[n] : random.pick(dayOffsets)) * DAY_MS;
    const ts = dayStart + random.int(0, DAY_MS - 1);
    const won = random.chance(0.2);
    const row: BidRow = {
      bid_id: `${random.hex(8)}-${random.hex(8)}`,
      ts: BigInt(ts),
      exchange: random.pick(EXCHANGES),
      user: { buyeruid: random.chance(0.1) ? bidder.cookieId.toUpperCase() : bidder.cookieId },
      device: { ip: bidder.ip, ua: bidder.userAgent },
      campaign_id: campaignId,
      price: won ? random.int(5, 900) / 100 : null,
    };
    const day = byDay.get(dayStart);
    if (day) day.push({ ts, row });
    else byDay.set(dayStart, [{ ts, row }]);
  }
  const objects: BidObject[] = [];
  for (const dayStart of [...byDay.keys()].sort((a, b) => a - b)) {
    const rows = (byDay.get(dayStart) ?? []).sort((a, b) => a.ts - b.ts).map(({ row }) => row);
    const date = new Date(dayStart).toISOString().slice(0, 10);
    const parts = Math.ceil(rows.length / ROWS_PER_FILE);
    const perPart = Math.ceil(rows.length / parts);
    for (let part = 0; part < parts; part += 1) {
      const slice = rows.slice(part * perPart, (part + 1) * perPart);
      objects.push({
        key: `bids/dt=${date}/part-${String(part).padStart(4, '0')}.snappy.parquet`,
        body: encodeBidRows(slice),
        contentType: 'application/vnd.apache.parquet',
        lastModified: new Date(Math.min(nowMs, dayStart + DAY_MS + 10 * 60_000)),
      });
    }
  }
  return objects;
}
