import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataMap } from '../../lib/datamap/schema';
import type { StoreSeed } from '../../lib/local/import';

/**
 * A seed as a company's export folder, as `lethe discover --dir` reads it: the items of each
 * DynamoDB store in `DIR/dynamodb/<table>.jsonl`, the objects of each S3 store under
 * `DIR/s3/<bucket>/<key>`, named by the data map's tables and buckets.
 */
export function writeExportFolder(dataMap: DataMap, seed: StoreSeed, dir: string): void {
  for (const store of dataMap.stores) {
    if (store.kind === 'dynamodb') {
      const file = join(dir, 'dynamodb', `${store.table}.jsonl`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(
        file,
        (seed.dynamodb[store.id] ?? []).map((item) => `${JSON.stringify(item)}\n`).join(''),
      );
    } else {
      for (const object of seed.s3[store.id] ?? []) {
        const file = join(dir, 's3', store.bucket, ...object.key.split('/'));
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, object.body);
      }
    }
  }
}
