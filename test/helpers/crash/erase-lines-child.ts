/**
 * A child process for kill trials: opens the local servers on a state directory, locates one
 * subject in a JSON-lines store and erases them (rewriting every shared object they are in),
 * printing `erasing` just before the first write and `done <ms>` at the end. The parent kills it
 * at a random moment in between.
 *
 * argv: <stateDir> <dataMapFile> <storeId> <identityType> <identityValue> <rewriteBufferLimitBytes>
 */
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import { createLocalClients, startLocalServers } from '../../../lib/local/servers';
import { eraseInStore, locateInStore } from '../../../lib/stores';
import type { S3EraseOptions } from '../../../lib/stores/s3';

async function main(): Promise<void> {
  const [stateDir, dataMapFile, storeId, type, value, bufferLimit] = process.argv.slice(2);
  if (!stateDir || !dataMapFile || !storeId || !type || !value || !bufferLimit) {
    throw new Error('usage: erase-lines-child STATE_DIR DATAMAP STORE TYPE VALUE BUFFER_LIMIT');
  }
  const dataMap = loadDataMap(dataMapFile);
  const store = getStore(dataMap, storeId);
  const servers = await startLocalServers({ stateDir });
  const clients = createLocalClients(servers);
  const location = await locateInStore(dataMap, store, [{ type, value }], clients);
  process.stdout.write('erasing\n');
  const started = Date.now();
  const options: S3EraseOptions = { hmacKey: Buffer.alloc(32), rewriteBufferLimitBytes: Number(bufferLimit) };
  await eraseInStore(dataMap, store, location.records, clients, options);
  process.stdout.write(`done ${Date.now() - started}\n`);
  clients.dynamodb.destroy();
  clients.s3.destroy();
  await servers.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
