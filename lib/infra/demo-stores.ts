import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { sweepPrefixes } from '../datamap/prefixes';
import type { DataMap, DynamoStore, S3Store } from '../datamap/schema';
import { maxPeriodDays } from '../retention/rules';
import { attribute, buildLetheBucket, buildLetheTable } from './lethe-storage';

/**
 * The TTL attribute of the demo's tables that have a retention rule. DynamoDB deletes an item
 * some time (typically within days) after the epoch-SECONDS time in this attribute; whoever
 * writes the item must set it (retention timestamp + period, or later). It is a native backstop
 * only: the sweep is what purges on time, honours legal holds, and is audited. TTL deletes do
 * neither, so a held item must not carry the attribute.
 */
export const DEMO_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The data map with the demo's bucket names made unique: each S3 store's bucket gets
 * `-<account>-<region>` appended, since bucket names are global and the example's would collide
 * with anyone else's demo (and with your own in another account or region). Everything the stacks
 * build comes from the data map, so the buckets, their grants and the data map bundled into the
 * functions all use the new names. An environment-agnostic synth (no concrete account and
 * region) keeps the data map's names.
 * @throws Error when a name would exceed S3's 63 characters
 */
export function withDemoBucketNames(dataMap: DataMap, env: { account?: string; region?: string }): DataMap {
  const { account, region } = env;
  if (!account || !region || Token.isUnresolved(account) || Token.isUnresolved(region)) return dataMap;
  const stores = dataMap.stores.map((store) => {
    if (store.kind !== 's3') return store;
    const bucket = `${store.bucket}-${account}-${region}`;
    if (bucket.length > 63) {
      throw new Error(
        `demo bucket name "${bucket}" of store ${store.id} is over S3's 63 characters: shorten the data map's bucket name`,
      );
    }
    return { ...store, bucket };
  });
  return { ...dataMap, stores };
}

export interface DemoStoresProps {
  /** The data map whose stores to create. */
  readonly dataMap: DataMap;
  /** lethe's key: the demo's stores are encrypted with it like lethe's own. */
  readonly key: kms.IKey;
  /** Where the demo's buckets deliver their server access logs. */
  readonly accessLogs: s3.IBucket;
}

/**
 * The data map's stores, created as the data map describes them so the example deploys whole,
 * with the secure defaults of lethe's own tables and buckets (lib/infra/lethe-storage.ts). Tables
 * have the data map's key schema and every GSI; with a retention rule, TTL on DEMO_TTL_ATTRIBUTE
 * (tables) or lifecycle expiry under the sweep prefixes (buckets) as a backstop. Unversioned:
 * lethe erases versioned buckets version by version too, but the demo has no need of versions.
 */
export class DemoStores extends Construct {
  /** The data map's tables by store id. */
  public readonly tables: ReadonlyMap<string, dynamodb.Table>;
  /** The data map's buckets by store id. */
  public readonly buckets: ReadonlyMap<string, s3.Bucket>;

  constructor(scope: Construct, id: string, props: DemoStoresProps) {
    super(scope, id);
    const tables = new Map<string, dynamodb.Table>();
    const buckets = new Map<string, s3.Bucket>();
    const byName = new Map<string, s3.Bucket>();
    for (const store of props.dataMap.stores) {
      if (store.kind === 'dynamodb') {
        tables.set(store.id, this.table(store, props.key));
        continue;
      }
      // Several S3 stores may share a bucket (under different prefixes): create it once.
      const bucket =
        byName.get(store.bucket) ??
        buildLetheBucket(this, `Store-${store.id}`, {
          key: props.key,
          accessLogs: props.accessLogs,
          bucketName: store.bucket,
        });
      byName.set(store.bucket, bucket);
      buckets.set(store.id, bucket);
      addRetentionBackstop(bucket, store);
    }
    this.tables = tables;
    this.buckets = buckets;
  }

  private table(store: DynamoStore, key: kms.IKey): dynamodb.Table {
    const table = buildLetheTable(this, `Store-${store.id}`, {
      key,
      ...store.keySchema,
      tableName: store.table,
      ...(store.retention ? { timeToLiveAttribute: DEMO_TTL_ATTRIBUTE } : {}),
    });
    for (const index of store.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }
}

/**
 * A lifecycle expiration under each sweep prefix of a store with a retention rule: a native
 * backstop that removes objects the sweep somehow missed. It expires objects no earlier than the
 * longest the period can be (a year counted as 366 days, a month as 31) plus one day, so it never
 * acts before the sweep would. It does not know about legal holds: held objects past that age
 * are removed by it, so keep the period well above any hold you expect, or remove the rule.
 */
function addRetentionBackstop(bucket: s3.Bucket, store: S3Store): void {
  if (!store.retention) return;
  const days = maxPeriodDays(store.retention.period) + 1;
  sweepPrefixes(store).forEach((prefix, index) => {
    bucket.addLifecycleRule({
      id: `retention-backstop-${store.id}${index > 0 ? `-${index}` : ''}`,
      ...(prefix ? { prefix } : {}),
      expiration: Duration.days(days),
    });
  });
}
