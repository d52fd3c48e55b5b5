import type {
  DynamoLocateRule,
  IdentityType,
  KeySchema,
  S3LocateRule,
  SecondaryIndex,
  TimestampFormat,
} from '../datamap/schema';
import type { FieldClass } from './profile';
import type { ObjectFormat } from './sample';
import type { ValueShape } from './shapes';

/** What discovery proposes and what it saw: shapes, counts and names, never a value. */

/** One field as the report shows it. */
export interface FieldReport {
  name: string;
  class: FieldClass;
  confidence: number;
  basis: 'name' | 'values' | 'name and values';
  /** The identity type the draft gives it, if any. */
  identity?: string;
  /** Records (or keys) that have the field, and values seen. */
  present: number;
  values: number;
  list: boolean;
  shapes: Partial<Record<ValueShape, number>>;
  /** Share of string values not in normalised form (0 to 1). */
  notNormalised: number;
}

/** A link the draft proposes, with what it rests on. */
export interface ProposedLink {
  identity: string;
  attribute: string;
  /** Stores located by the identity this attribute reveals. */
  reaches: string[];
  /** Sampled values of the attribute found among the values those stores are located by. */
  matched: number;
}

/** A proposed store, with what a person must decide about it. */
export interface ProposedStore {
  id: string;
  kind: 'dynamodb' | 's3';
  /** The table or bucket name. */
  name: string;
  keySchema?: KeySchema;
  /** True when no DescribeTable answer was at hand and the key schema was guessed from the items. */
  keyGuessed: boolean;
  indexes: SecondaryIndex[];
  /** Index names the draft adds (not in DescribeTable): each must be created, or its rule removed. */
  proposedIndexes: string[];
  locate: (DynamoLocateRule | S3LocateRule)[];
  links: ProposedLink[];
  categories: string[];
  erase: 'delete' | 'rewrite';
  /** What a retention rule would run from: a timestamp attribute, or the objects' LastModified. */
  retentionFrom?: { attribute: string; format: TimestampFormat } | { lastModified: true };
  /** Things a person should know about the proposal (no values). */
  notes: string[];
}

/** What was seen in one store. */
export interface StoreReport {
  /** The draft's store id, or undefined when the store is not in the draft. */
  id?: string;
  kind: 'dynamodb' | 's3';
  name: string;
  /** Items read, or objects whose content was read. */
  read: number;
  /** DynamoDB's approximate item count; keys listed for a bucket. */
  itemCount?: number;
  keysListed?: number;
  moreKeys?: boolean;
  formats?: Partial<Record<ObjectFormat, number>>;
  /** Key layouts, each with the count of keys: "calls/{phone}/*.wav". */
  keyShapes?: { shape: string; keys: number }[];
  fields: FieldReport[];
  /** Fields with string values discovery could not classify. */
  unclassified: string[];
  problems: string[];
  /** Why the store is not in the draft, when it is not. */
  left?: string;
}

/** A proposed identity type and the comments it carries. */
export interface ProposedIdentityType {
  name: string;
  declaration: IdentityType;
  /** A pattern the values seem to follow, for a person to confirm (never set on the declaration). */
  patternSeen?: string;
  notes: string[];
}

/** The whole proposal: identity types, stores, and the report of every store seen. */
export interface Discovery {
  source: string;
  sample: number;
  identityTypes: ProposedIdentityType[];
  stores: ProposedStore[];
  report: StoreReport[];
}
