/**
 * Deterministic seed data for examples/shop/datamap.yaml: customers of an online shop and
 * everything each one left behind, as plain data (no AWS calls here), together with the ground
 * truth of whose record is whose, taken from the generator's own model and not from lethe.
 *
 * The same options always produce byte-identical output: all randomness comes from a seeded
 * PRNG. The data is as messy as a ten-year-old shop's:
 * - legacy customers rows hold the email as an old sign-up form stored it, with capitals and
 *   surrounding spaces ("  Ada.Berg1@Example.COM "), where the byEmail index holds it verbatim;
 * - phone numbers are stored in E.164, in international spellings ("0049 30 1234 5678") and in
 *   national form ("030 1234 5678", German numbers only: the phone type's defaultCountryCode is 49);
 * - some customers never ordered; orders still being delivered, open chargebacks and loyalty
 *   redemptions are exempt from erasure; invoices are kept by law;
 * - loyalty entries are keyed by the customer id, so masking them keeps them findable;
 * - support transcripts mix several customers and guests per file, spell emails in mixed case
 *   and with spaces, and hold blank and malformed lines; one customer's email is a substring of
 *   another's ("ada.berg3@…" and "joada.berg3@…") and both share a file.
 *
 * With at least six customers, the first six always have these traits (the rest are random):
 *   0: legacy email spelling, loyalty member with masked and exempt entries, an order being
 *      shipped, support lines in two spellings; 1: national phone spelling, a support call known
 *      by phone only; 2: a plain customer (normalised email, E.164 phone, no loyalty) with an
 *      order just placed; 3: its near-miss email twin; 4: an open chargeback and a loyalty
 *      ledger; 5: no orders at all and no login for years (past the customers retention).
 *
 * Run directly to write the files `lethe import` reads:
 *   npx tsx examples/shop/seed.ts --customers 50 --seed 1 --out examples/shop/seed
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const SHOP_DYNAMODB_STORES = ['customers', 'orders', 'loyalty'] as const;
export const SHOP_S3_STORES = ['invoices', 'support'] as const;
export const SHOP_STORE_IDS = [...SHOP_DYNAMODB_STORES, ...SHOP_S3_STORES] as const;
export type ShopDynamoStoreId = (typeof SHOP_DYNAMODB_STORES)[number];
export type ShopS3StoreId = (typeof SHOP_S3_STORES)[number];
export type ShopStoreId = (typeof SHOP_STORE_IDS)[number];

export interface ShopSeedOptions {
  /** Number of customers. */
  customers: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /** The moment the data is generated relative to. Default: the start of the current UTC day. */
  now?: Date;
}

/** How the customers row spells the phone: E.164, international with spaces or 00, or national. */
export type PhoneSpelling = 'e164' | 'international' | 'national';

/** One customer (a data subject) of the model. Identities are normalised as the data map declares. */
export interface ShopCustomer {
  customerId: string;
  name: string;
  email: string;
  /** E.164. */
  phone: string;
  /** The email as the customers row stores it: with capitals and spaces when `legacy`. */
  storedEmail: string;
  /** The phone as the customers row stores it. */
  storedPhone: string;
  phoneSpelling: PhoneSpelling;
  legacy: boolean;
  chargebackOpen: boolean;
  loyaltyMember: boolean;
}

/** What a correct erasure of the owner does to a record. */
export type ErasureOutcome = 'delete' | 'mask' | 'rewrite' | 'exempt';

/** The exemption of the data map that keeps a record, in the model's words. */
export type ExemptionKind = 'open-chargeback' | 'open-order' | 'redemption' | 'invoice';

export type ShopIdentityType = 'email' | 'phone' | 'customerId';

export interface StoredIdentity {
  type: ShopIdentityType;
  /** The value exactly as the record stores it. */
  stored: string;
  /** The normalised identity it stands for (the owner's, for a customer's record). */
  value: string;
}

/** One record of the seed and whose it is. */
export interface TruthRecord {
  storeId: ShopStoreId;
  /** DynamoDB: the partition key value, then "|" and the sort key value when the table has one. S3: the object key. */
  key: string;
  /** support: the line's 1-based number in its object and its exact text (without the line break). */
  line?: { number: number; text: string };
  /** The owner's customerId; null for lines of guests who are no customers. */
  owner: string | null;
  /** What a correct erasure of the owner does; null when the record is nobody's in the model. */
  erasure: ErasureOutcome | null;
  exemption?: ExemptionKind;
  /** Masked, but still found by a table key that masking cannot change (the loyalty ledger). */
  maskedByKey: boolean;
  identities: StoredIdentity[];
}

export interface ShopObject {
  key: string;
  body: string | Buffer;
  contentType: string;
  /** When the object was written: what S3 retention runs from. writeShopSeedFiles sets it as the mtime. */
  lastModified: Date;
}

export interface ShopTruth {
  /** Every item, object and parseable support line, owned or not. */
  records: TruthRecord[];
  /** Support lines that are not JSON objects (truncated, a pasted CSV header, `null`). */
  malformedLines: { key: string; number: number; text: string }[];
  /** Support lines holding nothing but whitespace. */
  blankLines: number;
}

export interface ShopSeed {
  seed: number;
  now: Date;
  customers: ShopCustomer[];
  /** DynamoDB items as plain JSON. */
  dynamodb: Record<ShopDynamoStoreId, Record<string, unknown>[]>;
  s3: Record<ShopS3StoreId, ShopObject[]>;
  truth: ShopTruth;
}

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const LINES_PER_SUPPORT_FILE = 30;

/** mulberry32: a 32-bit PRNG, plenty for a seed of thousands of customers (ids are checked for uniqueness). */
class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  base36(length: number): string {
    let text = '';
    for (let i = 0; i < length; i += 1) text += this.int(0, 35).toString(36);
    return text;
  }
}

const FIRST_NAMES = 'Hannah Jonas Mila Elias Lea Noah Emilia Finn Clara Paul Ida Theo Nora Anton Frieda Karl'
  .concat(' Ada Malik Sara Yasmin Piotr Agnieszka Joost Sanne Chloé Étienne Lotte Bence Zsófia Ömer')
  .split(' ');
const LAST_NAMES =
  'Berg Krüger Wagner Becker Vogel Hartmann Lang Brandt Jansen de Vries Peeters Dubois Moreau'
    .concat(' Nowak Szabó Öztürk Lindgren Fontaine Keller Roth Baumann Horvat Maier Pohl')
    .split(' ')
    .filter((name) => name !== 'de');
const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com'] as const;
const NICKNAMES = ['Sunny', 'Bookworm', 'Kiki', 'Captain Tea', 'Moni', 'Fox', 'Lulu', 'Shopaholic'] as const;
const AGENTS = ['agent.miriam', 'agent.tobias', 'agent.sven', 'agent.ines'] as const;
const STREETS = [
  'Lindenstraße',
  'Am Markt',
  'Hauptstraße',
  'Gartenweg',
  'Bahnhofstraße',
  'Kirchplatz',
] as const;
// sku|title|price in cents, separated by semicolons
const CATALOGUE = (
  'SH-101|Linen shirt|3990;SH-205|Wool socks (3 pairs)|1490;KT-310|Enamel kettle|4900;KT-322|Chef knife|6950;' +
  'HM-401|Cotton bed linen|8900;HM-417|Scented candle|1290;BK-500|Notebook, dotted|990;BK-512|Fountain pen|3450'
)
  .split(';')
  .map((entry) => {
    const [sku, title, cents] = entry.split('|') as [string, string, string];
    return { sku, title, cents: Number(cents) };
  });
const CHAT_MESSAGES = [
  'Where is my parcel? The tracking link has not changed for three days.',
  'I would like to return the kettle, it arrived with a dent.',
  'Can I change the delivery address of my last order?',
  'Please delete my old account, I opened a new one.',
  'The discount code from the newsletter does not work.',
  'I was charged twice for one order.',
] as const;
const CALL_NOTES = [
  'Caller asked about a refund; told them it takes 5-7 days.',
  'Caller wants the invoice sent again by post.',
  'Caller complained about the courier leaving the parcel outside.',
  'Caller asked to be removed from the newsletter.',
] as const;
const GOODWILL_NOTES = [
  'Goodwill points after a late delivery; customer was upset on the phone.',
  'Birthday bonus granted by support.',
  'Points restored after a cancelled order.',
] as const;

/** A dialling plan: country code, area codes, and subscriber number lengths. */
const PHONE_PLANS = [
  { country: '49', areas: ['30', '40', '89', '221'], digits: [7, 8] },
  { country: '43', areas: ['1', '316'], digits: [6, 7] },
  { country: '31', areas: ['20', '10'], digits: [7, 7] },
  { country: '33', areas: ['1', '4'], digits: [8, 8] },
] as const;
const CITIES: Record<string, readonly string[]> = {
  '49': ['Berlin', 'Hamburg', 'München', 'Köln'],
  '43': ['Wien', 'Graz'],
  '31': ['Amsterdam', 'Rotterdam'],
  '33': ['Paris', 'Lyon'],
};
const COUNTRY_CODES: Record<string, string> = { '49': 'DE', '43': 'AT', '31': 'NL', '33': 'FR' };

interface Phone {
  e164: string;
  country: string;
  area: string;
  subscriber: string;
}

interface CustomerDraft {
  customer: ShopCustomer;
  phoneParts: Phone;
  createdAt: number;
  address: { line1: string; postcode: string; city: string; country: string };
}

interface SupportLine {
  at: number;
  owner: string | null;
  fields: Record<string, unknown>;
  identities: StoredIdentity[];
  /** Lines that must share the first support file (the messy cases the tests look for). */
  firstFile: boolean;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer (got ${value})`);
  }
}

/** "Zsófia Öztürk" → "zsofia.ozturk": lowercase ASCII for an email's local part. */
function emailLocalPart(first: string, last: string): string {
  const ascii = (text: string) =>
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z]/g, '');
  return `${ascii(first)}.${ascii(last)}`;
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** As the legacy sign-up form stored it: capitalised words, a shouted or capitalised domain, padding. */
function legacyEmailSpelling(email: string, random: SeededRandom): string {
  const [local, domain] = email.split('@') as [string, string];
  const cased = local.split('.').map(capitalised).join('.');
  const domainCased = random.chance(0.5)
    ? domain.toUpperCase()
    : domain.replace(/\.([a-z]+)$/, (tld) => tld.toUpperCase()).replace(/^[a-z]/, (c) => c.toUpperCase());
  const padding = random.pick([' ', '  ', '\t']);
  return `${random.chance(0.6) ? padding : ''}${cased}@${domainCased}${padding}`;
}

/** How people type their email into a chat: capitalised (style 0), shouted (1), or with stray spaces (2). */
function typedEmailSpelling(email: string, random: SeededRandom, style = random.int(0, 2)): string {
  const [local, domain] = email.split('@') as [string, string];
  switch (style) {
    case 0:
      return `${local.split('.').map(capitalised).join('.')}@${domain}`;
    case 1:
      return email.toUpperCase();
    default:
      return ` ${email} `;
  }
}

function groupDigits(digits: string): string {
  return digits.length > 4 ? `${digits.slice(0, digits.length - 4)} ${digits.slice(-4)}` : digits;
}

function phoneSpelling(phone: Phone, spelling: PhoneSpelling, random: SeededRandom): string {
  if (spelling === 'e164') return phone.e164;
  // The shop is German: only German numbers are written in national form (the data map's phone
  // type names country code 49 for them).
  if (spelling === 'national' && phone.country === '49')
    return `0${phone.area} ${groupDigits(phone.subscriber)}`;
  return random.chance(0.5)
    ? `+${phone.country} ${phone.area} ${groupDigits(phone.subscriber)}`
    : `00${phone.country} ${phone.area} ${phone.subscriber}`;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A one-page PDF with a correct cross-reference table, naming the customer and the order. */
function invoicePdf(lines: string[]): Buffer {
  const pdfString = (text: string) => text.replace(/[\\()]/g, (c) => `\\${c}`);
  const stream = `BT /F1 11 Tf 60 780 Td 14 TL ${lines.map((line) => `(${pdfString(line)}) '`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let text = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(text, 'latin1'));
    text += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(text, 'latin1');
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) text += `${String(offset).padStart(10, '0')} 00000 n \n`;
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}

/**
 * Generates the shop seed and its ground truth. Deterministic: the same options give
 * byte-identical items and objects.
 * @throws RangeError when the customer count is not a non-negative integer or `now` is invalid
 */
export function generateShopSeed(options: ShopSeedOptions): ShopSeed {
  checkCount('customers', options.customers);
  const seed = options.seed ?? 1;
  const now = options.now
    ? new Date(options.now.getTime())
    : new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a valid date');
  const random = new SeededRandom(seed);
  const between = (fromMs: number, toMs: number) => random.int(Math.min(fromMs, toMs), toMs);
  const used = new Set<string>();
  const unique = (make: () => string) => {
    let value = make();
    while (used.has(value)) value = make();
    used.add(value);
    return value;
  };
  // The first six customers have fixed traits (see the top of this file); the rest draw them.
  const trait = (index: number, forced: readonly number[], probability: number) =>
    forced.includes(index) || (index >= 6 && random.chance(probability));

  // Customers: identities first, so the near-miss twin can borrow its neighbour's email.
  const drafts: CustomerDraft[] = [];
  for (let index = 0; index < options.customers; index += 1) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const twinOf = index === 3 ? drafts[2]?.customer.email : undefined;
    const email = unique(() =>
      twinOf ? `jo${twinOf}` : `${emailLocalPart(first, last)}${index + 1}@${random.pick(EMAIL_DOMAINS)}`,
    );
    const plan = random.pick(PHONE_PLANS);
    let phoneParts: Phone | undefined;
    unique(() => {
      const area = random.pick(plan.areas);
      const digits = random.int(plan.digits[0], plan.digits[1]);
      // Subscriber numbers start with 2-9: a leading 0 or 1 is a trunk or service prefix.
      const subscriber = `${random.int(2, 9)}${String(random.int(0, 10 ** (digits - 1) - 1)).padStart(digits - 1, '0')}`;
      phoneParts = { e164: `+${plan.country}${area}${subscriber}`, country: plan.country, area, subscriber };
      return phoneParts.e164;
    });
    const legacy = index === 0 || (index >= 6 && random.chance(0.2));
    const spelling: PhoneSpelling =
      index === 0
        ? 'international'
        : index === 1
          ? 'national'
          : index < 6
            ? 'e164'
            : random.pick(['e164', 'e164', 'international', 'national']);
    const createdAt = legacy
      ? nowMs - random.int(8 * YEAR_MS, 11 * YEAR_MS)
      : nowMs - random.int(index === 5 ? 5 * YEAR_MS : 60 * DAY_MS, 6 * YEAR_MS);
    const customerId = unique(() => `cus_${random.base36(12)}`);
    drafts.push({
      customer: {
        customerId,
        name: `${first} ${last}`,
        email,
        phone: phoneParts!.e164,
        storedEmail: legacy ? legacyEmailSpelling(email, random) : email,
        storedPhone: phoneSpelling(phoneParts!, spelling, random),
        phoneSpelling: spelling,
        legacy,
        chargebackOpen: trait(index, [4], 0.05),
        loyaltyMember: trait(index, [0, 4], 0.4),
      },
      phoneParts: phoneParts!,
      createdAt,
      address: {
        line1: `${random.pick(STREETS)} ${random.int(1, 140)}`,
        postcode: String(random.int(1000, 99_999)).padStart(5, '0'),
        city: random.pick(CITIES[plan.country] ?? ['Berlin']),
        country: COUNTRY_CODES[plan.country] ?? 'DE',
      },
    });
  }

  const records: TruthRecord[] = [];
  const dynamodb: ShopSeed['dynamodb'] = { customers: [], orders: [], loyalty: [] };
  const invoices: ShopObject[] = [];
  const supportLines: SupportLine[] = [];
  let invoiceNumber = random.int(10_000, 60_000);

  drafts.forEach((draft, index) => {
    const { customer, address } = draft;
    const idOf: StoredIdentity = {
      type: 'customerId',
      stored: customer.customerId,
      value: customer.customerId,
    };

    // The account row. Legacy customers have often not logged in for years (past the P3Y retention).
    const lastLoginAt =
      index === 5 || (customer.legacy && index >= 6 && random.chance(0.5))
        ? between(draft.createdAt, nowMs - 4 * YEAR_MS)
        : between(nowMs - YEAR_MS, nowMs - DAY_MS);
    const chargebackStatus = customer.chargebackOpen ? 'open' : random.chance(0.05) ? 'resolved' : undefined;
    dynamodb.customers.push({
      customerId: customer.customerId,
      email: customer.storedEmail,
      phone: customer.storedPhone,
      name: customer.name,
      createdAt: new Date(draft.createdAt).toISOString(),
      lastLoginAt: new Date(lastLoginAt).toISOString(),
      signupForm: customer.legacy ? 'legacy-v1' : random.pick(['web-v3', 'app']),
      marketingOptIn: random.chance(0.4),
      defaultAddress: address,
      ...(chargebackStatus ? { chargebackStatus } : {}),
    });
    records.push({
      storeId: 'customers',
      key: customer.customerId,
      owner: customer.customerId,
      ...(customer.chargebackOpen
        ? { erasure: 'exempt' as const, exemption: 'open-chargeback' as const }
        : { erasure: 'delete' as const }),
      maskedByKey: false,
      identities: [
        idOf,
        { type: 'email', stored: customer.storedEmail, value: customer.email },
        { type: 'phone', stored: customer.storedPhone, value: customer.phone },
      ],
    });

    // Orders: none for some customers; an order still on its way for customers 0 and 2.
    const orderCount =
      index === 5 ? 0 : index < 5 ? random.int(1, 3) : random.chance(0.25) ? 0 : random.int(1, 4);
    const orderTimes = Array.from({ length: orderCount }, () =>
      between(draft.createdAt, nowMs - 15 * DAY_MS),
    );
    if (index === 0) orderTimes.push(nowMs - random.int(5, 12) * DAY_MS);
    if (index === 2 || (index >= 6 && orderCount > 0 && random.chance(0.1))) {
      orderTimes.push(nowMs - random.int(0, index === 2 ? 2 : 13) * DAY_MS - random.int(1, 3_600_000));
    }
    const delivered: { orderId: string; placedAt: number; cents: number }[] = [];
    for (const placedAt of orderTimes.sort((a, b) => a - b)) {
      const age = nowMs - placedAt;
      const status =
        age <= 3 * DAY_MS
          ? 'placed'
          : age <= 14 * DAY_MS
            ? 'shipped'
            : random.pick(['delivered', 'delivered', 'delivered', 'delivered', 'returned', 'cancelled']);
      const orderId = unique(
        () => `ord-${new Date(placedAt).getUTCFullYear()}-${random.int(100_000, 999_999)}`,
      );
      const items = Array.from({ length: random.int(1, 3) }, () => {
        const product = random.pick(CATALOGUE);
        return {
          sku: product.sku,
          title: product.title,
          quantity: random.int(1, 3),
          unitPrice: product.cents / 100,
        };
      });
      const cents = items.reduce((sum, item) => sum + Math.round(item.unitPrice * 100) * item.quantity, 0);
      const gift = random.chance(0.15);
      const deliveryPhone = random.chance(0.5)
        ? phoneSpelling(draft.phoneParts, random.pick(['e164', 'international', 'national']), random)
        : undefined;
      dynamodb.orders.push({
        orderId,
        customerId: customer.customerId,
        placedAt: new Date(placedAt).toISOString(),
        status,
        items,
        total: cents / 100,
        currency: 'EUR',
        // A gift goes to someone else: the recipient's name is on the order too.
        shippingName: gift ? `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}` : customer.name,
        shippingAddress: gift
          ? { ...address, line1: `${random.pick(STREETS)} ${random.int(1, 140)}` }
          : { ...address },
        ...(deliveryPhone ? { deliveryPhone } : {}),
        ...(gift ? { giftMessage: `Happy birthday! Love, ${customer.name.split(' ')[0]}` } : {}),
      });
      const open = status === 'placed' || status === 'shipped';
      records.push({
        storeId: 'orders',
        key: orderId,
        owner: customer.customerId,
        ...(open
          ? { erasure: 'exempt' as const, exemption: 'open-order' as const }
          : { erasure: 'mask' as const }),
        maskedByKey: false,
        identities: [
          idOf,
          ...(deliveryPhone
            ? [{ type: 'phone' as const, stored: deliveryPhone, value: customer.phone }]
            : []),
        ],
      });
      if (status === 'placed' || status === 'cancelled') continue;
      // Invoices are issued when the order ships, and kept whatever happens to the order.
      invoiceNumber += random.int(1, 40);
      const invoiceNo = `INV-${new Date(placedAt).getUTCFullYear()}-${invoiceNumber}`;
      const key = `invoices/${customer.customerId}/${invoiceNo}.pdf`;
      invoices.push({
        key,
        body: invoicePdf([
          `Example Shop GmbH - Invoice ${invoiceNo}`,
          `Date: ${isoDay(placedAt)}   Order: ${orderId}   Customer: ${customer.customerId}`,
          `Bill to: ${customer.name}, ${address.line1}, ${address.postcode} ${address.city}, ${address.country}`,
          ...items.map(
            (item) => `${item.quantity} x ${item.title} (${item.sku})  ${item.unitPrice.toFixed(2)} EUR`,
          ),
          `Total: ${(cents / 100).toFixed(2)} EUR incl. VAT`,
        ]),
        contentType: 'application/pdf',
        lastModified: new Date(Math.min(nowMs, placedAt + DAY_MS)),
      });
      records.push({
        storeId: 'invoices',
        key,
        owner: customer.customerId,
        erasure: 'exempt',
        exemption: 'invoice',
        maskedByKey: false,
        identities: [idOf],
      });
      if (status === 'delivered') delivered.push({ orderId, placedAt, cents });
    }

    // Loyalty ledger: a profile entry, points per delivered order, redemptions and staff adjustments.
    if (customer.loyaltyMember) {
      const joinedAt = between(draft.createdAt, nowMs - 30 * DAY_MS);
      const entries: Record<string, unknown>[] = [
        {
          entryId: 'profile',
          entryType: 'profile',
          points: 0,
          at: joinedAt,
          nickname: random.pick(NICKNAMES),
          ...(random.chance(0.3) ? { notes: 'Prefers pick-up in store.' } : {}),
        },
        ...delivered.map((order) => ({
          entryId: `earn#${order.orderId}`,
          entryType: 'earn',
          points: Math.floor(order.cents / 100),
          at: Math.min(nowMs - DAY_MS, order.placedAt + 7 * DAY_MS),
        })),
      ];
      if (index === 0 || index === 4 || random.chance(0.4)) {
        entries.push({
          entryId: `redeem#${random.base36(8)}`,
          entryType: 'redemption',
          points: -500,
          at: between(joinedAt, nowMs - DAY_MS),
        });
      }
      if (index === 0 || random.chance(0.3)) {
        entries.push({
          entryId: `adjust#${random.base36(8)}`,
          entryType: 'adjustment',
          points: random.pick([100, 200, 250]),
          at: between(joinedAt, nowMs - DAY_MS),
          notes: random.pick(GOODWILL_NOTES),
        });
      }
      for (const entry of entries) {
        const redemption = entry.entryType === 'redemption';
        dynamodb.loyalty.push({
          customerId: customer.customerId,
          ...entry,
          at: new Date(entry.at as number).toISOString(),
        });
        records.push({
          storeId: 'loyalty',
          key: `${customer.customerId}|${String(entry.entryId)}`,
          owner: customer.customerId,
          ...(redemption
            ? { erasure: 'exempt' as const, exemption: 'redemption' as const, maskedByKey: false }
            : { erasure: 'mask' as const, maskedByKey: true }),
          identities: [idOf],
        });
      }
    }

    // Support: chats and emails carry the address as typed, calls the caller's number.
    const contacts = index < 4 ? (index === 3 ? 1 : 2) : random.chance(0.5) ? random.int(1, 4) : 0;
    for (let n = 0; n < contacts; n += 1) {
      const at = between(draft.createdAt, nowMs - DAY_MS);
      const ticketId = unique(() => `T-${random.int(100_000, 999_999)}`);
      const agent = random.pick(AGENTS);
      // Customer 1's second contact is a call known by its number only.
      const call = (index === 1 && n === 1) || (index >= 4 && random.chance(0.3));
      if (call) {
        const callerPhone = random.chance(0.8)
          ? customer.phone
          : phoneSpelling(draft.phoneParts, 'international', random);
        const withEmail = index >= 4 && random.chance(0.3);
        const emailSpelling = withEmail ? customer.email : undefined;
        supportLines.push({
          at,
          owner: customer.customerId,
          fields: {
            ticketId,
            channel: 'phone',
            callerPhone,
            ...(emailSpelling ? { email: emailSpelling } : {}),
            agent,
            notes: random.pick(CALL_NOTES),
          },
          identities: [
            { type: 'phone', stored: callerPhone, value: customer.phone },
            ...(emailSpelling
              ? [{ type: 'email' as const, stored: emailSpelling, value: customer.email }]
              : []),
          ],
          firstFile: false,
        });
        continue;
      }
      // Customers 0 and 2 write once in their normal spelling and once in a typed one, in one file.
      const typed = index === 0 || index === 2 ? n === 1 : random.chance(0.4);
      const spelling = !typed
        ? customer.email
        : typedEmailSpelling(customer.email, random, index < 4 ? 0 : undefined);
      supportLines.push({
        at,
        owner: customer.customerId,
        fields: {
          ticketId,
          channel: random.pick(['chat', 'chat', 'email']),
          email: spelling,
          ...(random.chance(0.5) ? { customerName: customer.name } : {}),
          agent,
          message: random.pick(CHAT_MESSAGES),
        },
        identities: [{ type: 'email', stored: spelling, value: customer.email }],
        firstFile: index === 0 || index === 2 || index === 3,
      });
    }
  });

  // Guests: people who wrote to support without an account.
  const guests = options.customers === 0 ? 0 : Math.ceil(options.customers / 3) + 2;
  for (let n = 0; n < guests; n += 1) {
    const email = unique(() => `guest-${random.base36(6)}@example.net`);
    const spelling = random.chance(0.3) ? typedEmailSpelling(email, random) : email;
    supportLines.push({
      at: between(nowMs - 3 * YEAR_MS, nowMs - DAY_MS),
      owner: null,
      fields: {
        ticketId: unique(() => `T-${random.int(100_000, 999_999)}`),
        channel: 'chat',
        email: spelling,
        agent: random.pick(AGENTS),
        message: random.pick(CHAT_MESSAGES),
      },
      identities: [{ type: 'email', stored: spelling, value: email }],
      firstFile: n === 0,
    });
  }

  const support = buildSupportFiles(supportLines, random, nowMs, records);
  return {
    seed,
    now,
    customers: drafts.map((draft) => draft.customer),
    dynamodb,
    s3: { invoices, support: support.objects },
    truth: { records, malformedLines: support.malformedLines, blankLines: support.blankLines },
  };
}

/**
 * Groups support lines into daily export files: several customers and guests per file, blank
 * and malformed lines in between, the last file without its final line break. Records each
 * parseable line in `records`.
 */
function buildSupportFiles(
  lines: SupportLine[],
  random: SeededRandom,
  nowMs: number,
  records: TruthRecord[],
): { objects: ShopObject[]; malformedLines: ShopTruth['malformedLines']; blankLines: number } {
  if (lines.length === 0) return { objects: [], malformedLines: [], blankLines: 0 };
  const fileCount = Math.max(2, Math.ceil(lines.length / LINES_PER_SUPPORT_FILE));
  const files: SupportLine[][] = Array.from({ length: fileCount }, () => []);
  let spread = 0;
  for (const line of lines) {
    if (line.firstFile) files[0]!.push(line);
    else files[spread < fileCount - 1 ? 1 + spread++ : random.int(0, fileCount - 1)]!.push(line);
  }
  const objects: ShopObject[] = [];
  const malformedLines: ShopTruth['malformedLines'] = [];
  let blankLines = 0;
  const nonEmpty = files.filter((file) => file.length > 0);
  nonEmpty.forEach((file, fileIndex) => {
    // The first file is recent; the others spread over three years, some past the P2Y retention.
    const dayStart =
      Math.floor(nowMs / DAY_MS) * DAY_MS -
      (fileIndex === 0 ? random.int(1, 20) : random.int(21, 1100)) * DAY_MS;
    const key = `support/${isoDay(dayStart).replace(/-/g, '/')}/transcripts-${String(fileIndex).padStart(3, '0')}.jsonl`;
    const texts: { text: string; line?: SupportLine }[] = file
      .map((line) => ({ ...line, at: dayStart + random.int(0, DAY_MS - 1) }))
      .sort((a, b) => a.at - b.at)
      .map((line) => ({
        text: JSON.stringify({ at: new Date(line.at).toISOString(), ...line.fields }),
        line,
      }));
    // Debris of a help-desk export: a truncated line, a pasted CSV header, a null, blank lines.
    const debris = [
      `{"at":"${new Date(dayStart).toISOString()}","ticketId":"T-0000${fileIndex}","channel":"chat","mess`,
      'at,ticketId,channel,email,message',
      'null',
      '',
      '   ',
    ];
    const debrisCount = fileIndex === 0 ? debris.length : random.int(0, 2);
    for (let n = 0; n < debrisCount; n += 1) {
      const text = fileIndex === 0 ? debris[n]! : random.pick(debris);
      // Never after the last record: a blank last line would read as the final line break.
      texts.splice(random.int(0, texts.length - 1), 0, { text });
    }
    texts.forEach(({ text, line }, position) => {
      const number = position + 1;
      if (text.trim() === '') blankLines += 1;
      else if (!line) malformedLines.push({ key, number, text });
      else {
        records.push({
          storeId: 'support',
          key,
          line: { number, text },
          owner: line.owner,
          erasure: line.owner === null ? null : 'rewrite',
          maskedByKey: false,
          identities: line.identities,
        });
      }
    });
    const last = fileIndex === nonEmpty.length - 1 && nonEmpty.length > 1;
    objects.push({
      key,
      body: `${texts.map(({ text }) => text).join('\n')}${last ? '' : '\n'}`,
      contentType: 'application/x-ndjson',
      lastModified: new Date(Math.min(nowMs, dayStart + DAY_MS + 10 * 60_000)),
    });
  });
  return { objects, malformedLines, blankLines };
}

/** The ground-truth records of one customer, in every store. */
export function recordsOf(seed: ShopSeed, customerId: string): TruthRecord[] {
  return seed.truth.records.filter((record) => record.owner === customerId);
}

/** The distinct spellings a customer's email and phone are stored in, across all stores. */
export function spellingsOf(seed: ShopSeed, customerId: string): Record<'email' | 'phone', string[]> {
  const spellings = { email: new Set<string>(), phone: new Set<string>() };
  for (const record of recordsOf(seed, customerId)) {
    for (const identity of record.identities) {
      if (identity.type !== 'customerId') spellings[identity.type].add(identity.stored);
    }
  }
  return { email: [...spellings.email].sort(), phone: [...spellings.phone].sort() };
}

export interface ShopSeedFiles {
  /** `dir/<storeId>.jsonl` per DynamoDB store. */
  dynamodb: Record<string, string>;
  /** `dir/<storeId>/` per S3 store. */
  s3: Record<string, string>;
}

/**
 * Writes a seed as the files `lethe import` reads: `dir/<storeId>.jsonl` per DynamoDB store (one
 * item as JSON per line, for `--file`) and `dir/<storeId>/<key>` per S3 object (for `--dir`),
 * its mtime set to the object's lastModified. Each S3 store's folder is replaced.
 * @throws Error when an object key would leave its store's folder
 */
export function writeShopSeedFiles(seed: ShopSeed, dir: string): ShopSeedFiles {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const written: ShopSeedFiles = { dynamodb: {}, s3: {} };
  for (const storeId of SHOP_DYNAMODB_STORES) {
    written.dynamodb[storeId] = join(root, `${storeId}.jsonl`);
    writeFileSync(
      written.dynamodb[storeId],
      seed.dynamodb[storeId].map((item) => `${JSON.stringify(item)}\n`).join(''),
    );
  }
  for (const storeId of SHOP_S3_STORES) {
    const storeDir = join(root, storeId);
    rmSync(storeDir, { recursive: true, force: true });
    const folders = new Set<string>();
    for (const object of seed.s3[storeId]) {
      const file = resolve(storeDir, ...object.key.split('/'));
      if (!file.startsWith(`${storeDir}${sep}`))
        throw new Error(`object key leaves the ${storeId} folder: ${object.key}`);
      if (!folders.has(dirname(file))) mkdirSync(dirname(file), { recursive: true });
      folders.add(dirname(file));
      writeFileSync(file, object.body);
      utimesSync(file, object.lastModified, object.lastModified);
    }
    written.s3[storeId] = storeDir;
  }
  return written;
}

function main(argv: string[]): void {
  const option = (flag: string, fallback: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : fallback;
  };
  const seed = generateShopSeed({
    customers: Number(option('--customers', '50')),
    seed: Number(option('--seed', '1')),
  });
  const out = option('--out', join(__dirname, 'seed'));
  const written = writeShopSeedFiles(seed, out);
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  const lines = [`${seed.customers.length} customers written to ${shown(out)}; load them with:`];
  // The legacy rows keep the spellings an old sign-up form stored: imported as they are, on purpose.
  for (const [storeId, file] of Object.entries(written.dynamodb)) {
    lines.push(`  npx lethe import --store ${storeId} --file ${shown(file)} --keep-key-spellings`);
  }
  for (const [storeId, folder] of Object.entries(written.s3)) {
    lines.push(`  npx lethe import --store ${storeId} --dir ${shown(folder)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) main(process.argv.slice(2));
