export * from './identity';
export * from './load';
export * from './schema';
