import { join } from 'node:path';
import { getStore, loadDataMap } from '../../lib/datamap/load';
import type { S3Store } from '../../lib/datamap/schema';
import { createLocalClients, type LocalClients } from '../../lib/local/servers';
import { useLocalStores } from './stores';

/** The ad-tech example's S3 stores and the cookie ids the S3 adapter tests write lines for. */

export const dataMap = loadDataMap(join(__dirname, '../../examples/adtech/datamap.yaml'));

/** An S3 store of the ad-tech example by id. */
export function adtechS3Store(id: string): S3Store {
  const store = getStore(dataMap, id);
  if (store.kind !== 's3') throw new Error(`${id} is not an S3 store`);
  return store;
}

/** Per-subject objects under `calls/{phone}/`. */
export const calls = adtechS3Store('call-recordings');
/** JSON-lines objects under `clicks/`, matched on `cookieId`. */
export const clickstream = adtechS3Store('clickstream');

export const COOKIE_A = 'aaaaaaaa-0000-4000-8000-00000000000a';
export const COOKIE_B = 'bbbbbbbb-0000-4000-8000-00000000000b';
export const COOKIE_E = 'eeeeeeee-0000-4000-8000-00000000000e';

/** One clickstream line. */
export const line = (cookieId: string, ts: number) => JSON.stringify({ cookieId, ts });

/**
 * The local servers with the ad-tech example's stores for a test file (see useLocalStores): `raw`
 * clients for the whole file, and fresh `clients` for each test, to put middleware on.
 */
export function useAdtechS3(): { readonly raw: LocalClients; readonly clients: LocalClients } {
  const stores = useLocalStores(dataMap);
  let clients: LocalClients | undefined;
  beforeEach(() => {
    clients = createLocalClients(stores.servers);
  });
  afterEach(() => {
    clients?.s3.destroy();
    clients?.dynamodb.destroy();
    clients = undefined;
  });
  return {
    get raw() {
      return stores.clients;
    },
    get clients() {
      if (!clients) throw new Error('useAdtechS3: per-test clients exist only inside a test');
      return clients;
    },
  };
}
