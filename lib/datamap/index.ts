export * from './identity';
export * from './load';
export * from './prefixes';
export * from './schema';
export * from './timestamps';
