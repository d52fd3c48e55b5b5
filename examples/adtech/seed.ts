/**
 * Deterministic seed data for examples/adtech/datamap.yaml: data subjects and the records each
 * one owns in every store of the ad-tech data map, as plain data (no AWS calls here).
 *
 * The same options always produce the same seed: all randomness comes from a seeded PRNG.
 * The data is shaped to exercise locating, export, erasure and retention:
 * - every subject has an inquiry row linking its email to its cookie ids (1–3) and phone;
 * - ad events and conversions are keyed by cookie id, clickstream files mix many subjects'
 *   lines with anonymous cookies, and some cookie ids appear there in UPPERCASE; ad-exchange bid
 *   logs (Parquet) do the same in a nested column;
 * - several subjects share one IP address (NAT), so following IPs would reach other people;
 * - timestamps spread over the last three years, so retention sweeps find expired and fresh
 *   records in every store.
 *
 * Run directly to write the files an import reads:
 *   npx tsx examples/adtech/seed.ts --subjects 100 --records 10 --seed 1 --out examples/adtech/seed
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { bidLogObjects } from './bids';

export const ADTECH_DYNAMODB_STORES = ['inquiries', 'ad-events', 'conversions', 'partner-contacts'] as const;
export const ADTECH_S3_STORES = ['call-recordings', 'recruitment', 'clickstream', 'bid-logs'] as const;
export const ADTECH_STORE_IDS = [...ADTECH_DYNAMODB_STORES, ...ADTECH_S3_STORES] as const;
export type AdtechDynamoStoreId = (typeof ADTECH_DYNAMODB_STORES)[number];
export type AdtechS3StoreId = (typeof ADTECH_S3_STORES)[number];
export type AdtechStoreId = (typeof ADTECH_STORE_IDS)[number];

export interface AdtechSeedOptions {
  /** Number of data subjects. */
  subjects: number;
  /** Ad events per subject, and clickstream lines per subject; other stores scale from it. */
  recordsPerSubject: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /**
   * The moment the data is generated relative to. Default: the start of the current UTC day, so
   * the same options give the same seed all day long while ages stay right for retention.
   */
  now?: Date;
}

export type PartnerRole = 'billing' | 'marketing';

/**
 * One data subject and what it owns. Identities are normalised as the data map declares them
 * (normaliseIdentity returns them unchanged). `owns` counts, per store, the records that belong
 * to the subject alone: DynamoDB items, S3 objects, (clickstream) JSON lines or (bid logs) Parquet rows.
 *
 * Stored values that are not normalised, on purpose: clickstream lines give some cookie ids in
 * UPPERCASE (cookieId is case-insensitive), and some inquiry rows keep the phone as the person
 * typed it ("+49 30 1234 5678", "0049…"); both normalise to the values here.
 */
export interface SeedSubject {
  /** A label for tests and benchmarks ("s000042"); not an identity and not stored anywhere. */
  id: string;
  name: string;
  email: string;
  phone: string;
  cookieIds: string[];
  /** Partner-portal account id, for subjects who are partner contacts. */
  userId?: string;
  /** Shared with other subjects when the subject is behind a NAT (see `sharedIp`). */
  ip: string;
  /** True when at least one other subject has the same ip. */
  sharedIp: boolean;
  /** The partner-contact rows' roles: [] for a subject who is no partner contact. */
  partnerRoles: PartnerRole[];
  owns: Record<AdtechStoreId, number>;
}

export interface SeedObject {
  key: string;
  body: string | Buffer;
  contentType: string;
  /** When the object was written: what S3 retention runs from. writeSeedFiles sets it as the mtime. */
  lastModified: Date;
}

export interface AdtechSeed {
  seed: number;
  now: Date;
  subjects: SeedSubject[];
  /** DynamoDB items as plain JSON: numbers as numbers, lists as arrays. */
  dynamodb: Record<AdtechDynamoStoreId, Record<string, unknown>[]>;
  s3: Record<AdtechS3StoreId, SeedObject[]>;
  /** Records that belong to no subject: clickstream lines and bid rows of cookies nobody asked about. */
  anonymous: { cookieIds: string[]; clickstreamLines: number; bidRows: number };
}

const DAY_MS = 86_400_000;
const THREE_YEARS_MS = 1095 * DAY_MS;
const CLICK_LINES_PER_FILE = 200;

/**
 * A small, fast PRNG: sfc32 seeded through splitmix32. Its 128-bit state keeps the random
 * ids of large seeds (hundreds of thousands of UUIDs) clear of collisions; ids are also
 * checked for uniqueness where they must be unique.
 */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const splitmix32 = () => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let i = 0; i < 12; i += 1) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits. */
  float(): number {
    return ((this.uint32() >>> 5) * 67_108_864 + (this.uint32() >>> 6)) / 9_007_199_254_740_992;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    // x - x % 1 is floor for x >= 0; Math calls are slow in Jest's sandbox and this runs a lot.
    const x = this.float() * (max - min + 1);
    return min + (x - (x % 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  hex(length: number): string {
    let text = '';
    while (text.length < length) text += this.uint32().toString(16).padStart(8, '0');
    return text.slice(0, length);
  }

  /** A version-4 UUID, lowercase. */
  uuid(): string {
    const h = this.hex(32);
    const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const FIRST_NAMES = [
  'Ada',
  'Amara',
  'Anders',
  'Aylin',
  'Bram',
  'Chiara',
  'Dmitri',
  'Elif',
  'Emeka',
  'Fatima',
  'Felix',
  'Greta',
  'Hana',
  'Ines',
  'Jonas',
  'Kai',
  'Katarzyna',
  'Lars',
  'Leila',
  'Lucía',
  'Mateo',
  'Mei',
  'Mohammed',
  'Nadia',
  'Noah',
  'Oskar',
  'Priya',
  'Rafael',
  'Saoirse',
  'Sofia',
  'Tariq',
  'Théo',
  'Uma',
  'Valentina',
  'Wei',
  'Yusuf',
  'Zoë',
  'Jürgen',
  'Björn',
  'Olumide',
] as const;
const LAST_NAMES = [
  'Abara',
  'Berg',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Hoffmann',
  'Ivanova',
  'Jansen',
  'Kowalski',
  'Lindqvist',
  'Martins',
  'Nakamura',
  "O'Neill",
  'Papadopoulos',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Usman',
  'Varga',
  'Weber',
  'Xu',
  'Yılmaz',
  'Zimmermann',
  'Novak',
  'Costa',
  'Haddad',
  'Okafor',
] as const;
const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com'] as const;
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
] as const;
const COMPANIES = [
  'Northwind Media',
  'Bluefin Retail',
  'Larkspur Travel',
  'Quillon Insurance',
  'Harbourlight Publishing',
  'Copperleaf Foods',
  'Meridian Mobility',
  'Saltmarsh Games',
  'Tallgrass Energy',
  'Vireo Fashion',
  'Kestrel Finance',
  'Oakhaven News',
] as const;
const TITLES: Record<PartnerRole, readonly string[]> = {
  billing: ['Accounts Payable Manager', 'Finance Controller', 'Billing Specialist'],
  marketing: ['Head of Performance Marketing', 'Media Buyer', 'Marketing Manager', 'Campaign Lead'],
};
const LANDING_PAGES = [
  'https://shop.example.com/p/',
  'https://travel.example.org/deals/',
  'https://news.example.net/article/',
  'https://games.example.com/play/',
] as const;
const INQUIRY_TOPICS = [
  ['ad-preferences', 'I keep seeing the same advert on every site. Please stop showing it to me.'],
  ['data-access', 'What information do you hold about me and where did you get it?'],
  ['advertising', 'We would like to run a campaign with you next quarter. Who can I talk to?'],
  ['complaint', 'An ad served by you covered the whole page on my phone and I could not close it.'],
  ['opt-out', 'How do I opt out of personalised ads on my laptop and my phone?'],
] as const;
const JOB_TITLES = ['Data Engineer', 'Account Manager', 'Ad Operations Specialist', 'Privacy Counsel'];

interface Campaign {
  campaignId: string;
  advertiserId: string;
}

interface Partner {
  partnerId: string;
  company: string;
}

interface SubjectDraft {
  subject: SeedSubject;
  devices: { deviceId: string; userAgent: string }[];
  formattedPhone: string;
  partner?: Partner;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer (got ${value})`);
  }
}

function startOfUtcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
}

/** Lowercase ASCII for the local part of an email address: "Lucía O'Neill" → "lucia.oneill". */
function asciiSlug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ı/g, 'i')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

/** Subject i's own IPv4 in 198.18.0.0/15 (reserved for benchmarking): a bijection of i for i < 2^17. */
function uniqueIpv4(index: number, offset: number): string {
  const n = (Math.imul(index, 0x9e37) + offset) & 0x1ffff;
  return `198.${18 + (n >>> 16)}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Subject i's own IPv6 in 2001:db8::/32 (documentation), in canonical form. */
function uniqueIpv6(index: number, random: Random): string {
  const high = ((index >>> 12) + 1).toString(16);
  const low = ((index & 0xfff) + 0x1000).toString(16);
  return `2001:db8:${high}:${low}::${random.int(1, 0xffff).toString(16)}`;
}

/** The k-th NAT address (k < 508), shared by several subjects: in 203.0.113.0/24 and 198.51.100.0/24 (documentation). */
function natIp(k: number): string {
  return k < 254 ? `203.0.113.${k + 1}` : `198.51.100.${k - 253}`;
}

/**
 * Country formats. Subject i gets plan i mod 4 and, within it, a subscriber number that is a
 * bijection of i (48271 is prime, so coprime to the size of the number space): unique phones.
 */
const PHONE_PLANS = [
  { country: '+49', area: '30', digits: 8, group: [2, 2, 4, 4] }, // Berlin: +49 30 1234 5678
  { country: '+44', area: '20', digits: 8, group: [2, 2, 4, 4] }, // London: +44 20 1234 5678
  { country: '+33', area: '1', digits: 8, group: [2, 1, 2, 2, 2, 2] }, // Paris: +33 1 23 45 67 89
  { country: '+34', area: '91', digits: 7, group: [2, 2, 3, 2, 2] }, // Madrid: +34 91 123 45 67
] as const;

function makePhone(index: number, offset: number, random: Random): { phone: string; formatted: string } {
  const plan = PHONE_PLANS[index % PHONE_PLANS.length]!;
  // Subscriber numbers do not start with 0: [10^(d-1), 10^d).
  const first = 10 ** (plan.digits - 1);
  const n = first + ((Math.floor(index / PHONE_PLANS.length) * 48_271 + offset) % (9 * first));
  const local = `${plan.area}${n}`;
  const phone = `${plan.country}${local}`;
  // As people type it: grouped with spaces or dashes, or with 00 instead of +.
  const digits = phone.slice(1);
  const parts: string[] = [];
  let at = 0;
  for (const size of plan.group) {
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  if (at < digits.length) parts.push(digits.slice(at));
  const style = random.int(0, 2);
  const formatted =
    style === 0
      ? `+${parts.join(' ')}`
      : style === 1
        ? `00${parts.join(' ')}`
        : `+${parts[0]} (${parts[1]}) ${parts.slice(2).join('-')}`;
  return { phone, formatted };
}

function compactStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** A short mono 8 kHz 8-bit PCM WAV: a plausible header and a tone with noise. */
function fakeWav(random: Random): Buffer {
  const samples = random.int(400, 1600);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples, 40);
  // A triangle tone plus xorshift noise, in integer arithmetic only: this runs for every call
  // in the seed, and Math functions are slow in Jest's sandbox.
  const data = new Uint8Array(samples);
  const increment = random.int(5, 13);
  let noise = random.uint32() | 1;
  for (let i = 0; i < samples; i += 1) {
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    const phase = (i * increment) & 255;
    data[i] = 64 + (phase < 128 ? phase : 255 - phase) + (noise & 15) - 8;
  }
  return Buffer.concat([header, data]);
}

/** A minimal one-page PDF whose text names the applicant. */
function fakePdf(name: string, email: string, jobTitle: string): Buffer {
  const pdfText = (text: string) => text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 14 Tf 72 770 Td (Curriculum vitae: ${pdfText(name)}) Tj 0 -20 Td /F1 11 Tf (${pdfText(email)}) Tj 0 -20 Td (Applying for: ${pdfText(jobTitle)}) Tj ET`;
  const text = [
    '%PDF-1.4',
    '%\u00e2\u00e3\u00cf\u00d3',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >> endobj',
    `4 0 obj << /Length ${Buffer.byteLength(content, 'latin1')} >> stream`,
    content,
    'endstream endobj',
    '5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
    '',
  ].join('\n');
  return Buffer.from(text, 'latin1');
}

function emptyOwnership(): Record<AdtechStoreId, number> {
  return {
    inquiries: 0,
    'ad-events': 0,
    conversions: 0,
    'partner-contacts': 0,
    'call-recordings': 0,
    recruitment: 0,
    clickstream: 0,
    'bid-logs': 0,
  };
}

/**
 * Generates the ad-tech seed. Deterministic: the same options give deep-equal output.
 * 10,000 subjects × 10 records take about a second.
 * @throws RangeError when a count is not a non-negative integer
 */
export function generateAdtechSeed(options: AdtechSeedOptions): AdtechSeed {
  checkCount('subjects', options.subjects);
  checkCount('recordsPerSubject', options.recordsPerSubject);
  const seed = options.seed ?? 1;
  const now = options.now ? new Date(options.now.getTime()) : startOfUtcDay(new Date());
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a valid date');
  const records = options.recordsPerSubject;
  const random = new Random(seed);
  const ago = (maxMs: number, minMs = 1) => nowMs - random.int(minMs, maxMs);

  const campaigns: Campaign[] = Array.from({ length: 40 }, (_, k) => ({
    campaignId: `cmp-${1000 + k * 7}`,
    advertiserId: `adv-${String(101 + (k % 12)).padStart(3, '0')}`,
  }));
  const partners: Partner[] = Array.from(
    { length: Math.max(2, Math.ceil(options.subjects / 40)) },
    (_, k) => ({
      partnerId: `p-${String(k + 1).padStart(4, '0')}`,
      company: `${COMPANIES[k % COMPANIES.length]}${k >= COMPANIES.length ? ` ${Math.floor(k / COMPANIES.length) + 1}` : ''}`,
    }),
  );
  const phoneOffset = random.int(0, 899_999);
  const ipOffset = random.int(0, 0x1ffff);
  const natCount = Math.min(508, Math.max(1, Math.ceil(options.subjects / 20)));
  const usedIds = new Set<string>();
  const uniqueId = (make: () => string) => {
    let id = make();
    while (usedIds.has(id)) id = make();
    usedIds.add(id);
    return id;
  };

  // Phase 1: identities, so that shared addresses can be settled before records are written.
  const drafts: SubjectDraft[] = [];
  for (let index = 0; index < options.subjects; index += 1) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const name = `${first} ${last}`;
    const email = `${asciiSlug(first)}.${asciiSlug(last)}${index + 1}@${random.pick(EMAIL_DOMAINS)}`;
    const { phone, formatted } = makePhone(index, phoneOffset, random);
    const cookieIds = Array.from({ length: random.int(1, 3) }, () => uniqueId(() => random.uuid()));
    const devices = cookieIds.map(() => ({
      deviceId: uniqueId(() => random.uuid().toUpperCase()),
      userAgent: random.pick(USER_AGENTS),
    }));
    const behindNat = random.chance(0.15);
    const ip = behindNat
      ? natIp(random.int(0, natCount - 1))
      : index >= 0x20000 || random.chance(0.2)
        ? uniqueIpv6(index, random)
        : uniqueIpv4(index, ipOffset);
    // Subject 0 is always a partner contact with both a billing and a marketing row.
    const isPartner = index === 0 || random.chance(0.1);
    const partnerRoles: PartnerRole[] = !isPartner
      ? []
      : index === 0 || random.chance(0.25)
        ? ['billing', 'marketing']
        : [random.pick(['billing', 'marketing'] as const)];
    const subject: SeedSubject = {
      id: `s${String(index).padStart(6, '0')}`,
      name,
      email,
      phone,
      cookieIds,
      ip,
      sharedIp: false,
      partnerRoles,
      owns: emptyOwnership(),
    };
    if (isPartner) subject.userId = uniqueId(() => `u-${random.hex(8)}`);
    drafts.push({
      subject,
      devices,
      formattedPhone: formatted,
      ...(isPartner ? { partner: random.pick(partners) } : {}),
    });
  }
  const subjects = drafts.map((draft) => draft.subject);
  const byIp = new Map<string, number>();
  for (const subject of subjects) byIp.set(subject.ip, (byIp.get(subject.ip) ?? 0) + 1);
  if (subjects.length >= 2 && ![...byIp.values()].some((count) => count > 1)) {
    // Small seeds still get one NAT pair: the second subject shares the first one's address.
    const [first, second] = subjects as [SeedSubject, SeedSubject];
    byIp.set(second.ip, (byIp.get(second.ip) ?? 1) - 1);
    second.ip = first.ip;
    byIp.set(first.ip, (byIp.get(first.ip) ?? 0) + 1);
  }
  for (const subject of subjects) subject.sharedIp = (byIp.get(subject.ip) ?? 0) > 1;

  // Phase 2: records.
  const inquiries: Record<string, unknown>[] = [];
  const adEvents: Record<string, unknown>[] = [];
  const conversions: Record<string, unknown>[] = [];
  const partnerContacts: Record<string, unknown>[] = [];
  const callRecordings: SeedObject[] = [];
  const recruitment: SeedObject[] = [];
  interface ClickLine {
    ts: number;
    line: Record<string, unknown>;
  }
  const clickLines: ClickLine[] = [];

  drafts.forEach((draft, index) => {
    const { subject, devices } = draft;
    const { owns } = subject;

    // Inquiries: a recent one linking every cookie id; for some subjects an old one too,
    // older than the three-year retention, which a sweep removes.
    const inquiryTimes = [ago(730 * DAY_MS)];
    if (random.chance(0.3)) inquiryTimes.push(ago(1280 * DAY_MS, 900 * DAY_MS));
    inquiryTimes.forEach((at, n) => {
      const [topic, message] = random.pick(INQUIRY_TOPICS);
      inquiries.push({
        email: subject.email,
        receivedAt: new Date(at).toISOString(),
        name: subject.name,
        phone: random.chance(0.25) ? draft.formattedPhone : subject.phone,
        cookieIds: n === 0 ? [...subject.cookieIds] : [subject.cookieIds[0]!],
        channel: random.chance(0.7) ? 'contact-form' : 'email',
        topic,
        message,
        locale: random.pick(['en-GB', 'de-DE', 'fr-FR', 'es-ES']),
      });
    });
    owns.inquiries = inquiryTimes.length;

    // Ad events: recordsPerSubject per subject, spread over the subject's cookies.
    for (let n = 0; n < records; n += 1) {
      const cookieIndex = n % subject.cookieIds.length;
      const device = devices[cookieIndex]!;
      const eventAt = ago(THREE_YEARS_MS);
      const eventId = random.hex(16);
      adEvents.push({
        cookieId: subject.cookieIds[cookieIndex]!,
        eventKey: `${eventAt}#${eventId}`,
        eventId,
        eventAt,
        retentionShard: 'all',
        type: random.chance(0.15) ? 'click' : 'view',
        campaignId: random.pick(campaigns).campaignId,
        ip: subject.ip,
        userAgent: device.userAgent,
        deviceId: device.deviceId,
      });
    }
    owns['ad-events'] = records;

    // Conversions reported by advertisers' pixels.
    const conversionCount = records === 0 ? 0 : random.int(0, Math.ceil(records / 3));
    for (let n = 0; n < conversionCount; n += 1) {
      const campaign = random.pick(campaigns);
      conversions.push({
        conversionId: uniqueId(() => `cv-${random.hex(16)}`),
        cookieId: random.pick(subject.cookieIds),
        convertedAt: Math.floor(ago(THREE_YEARS_MS) / 1000),
        advertiserId: campaign.advertiserId,
        campaignId: campaign.campaignId,
        conversionType: random.pick(['purchase', 'sign-up', 'lead']),
        value: random.int(100, 25_000) / 100,
        currency: random.pick(['EUR', 'GBP', 'USD']),
        ip: subject.ip,
      });
    }
    owns.conversions = conversionCount;

    // Partner contacts: one row per role at the subject's partner company.
    if (draft.partner) {
      for (const role of subject.partnerRoles) {
        partnerContacts.push({
          partnerId: draft.partner.partnerId,
          contactId: uniqueId(() => `c-${random.hex(8)}`),
          company: draft.partner.company,
          email: subject.email,
          userId: subject.userId,
          phone: subject.phone,
          name: subject.name,
          title: random.pick(TITLES[role]),
          role,
          createdAt: new Date(ago(THREE_YEARS_MS)).toISOString(),
        });
      }
      owns['partner-contacts'] = subject.partnerRoles.length;
    }

    // Call recordings: a .wav and its transcript per call, under calls/{phone}/.
    if (index === 0 || random.chance(0.3)) {
      const calls = random.int(1, 3);
      for (let n = 0; n < calls; n += 1) {
        const startedAt = ago(THREE_YEARS_MS, DAY_MS);
        const base = `calls/${subject.phone}/${compactStamp(startedAt)}-${random.hex(8)}`;
        const lastModified = new Date(startedAt + random.int(5, 60) * 60_000);
        callRecordings.push(
          { key: `${base}.wav`, body: fakeWav(random), contentType: 'audio/wav', lastModified },
          {
            key: `${base}.txt`,
            body: [
              '[00:00] Agent: Thank you for calling Example Ads sales, how can I help?',
              `[00:04] Caller: Hi, this is ${subject.name}. I saw one of your ads and have a question.`,
              '[00:11] Agent: Of course. Can I take a number to call you back on?',
              `[00:14] Caller: Yes, it is ${draft.formattedPhone}.`,
              '[00:20] Agent: Thanks, a colleague will call you back today.',
              '',
            ].join('\n'),
            contentType: 'text/plain; charset=utf-8',
            lastModified,
          },
        );
      }
      owns['call-recordings'] = calls * 2;
    }

    // Job applications: a CV and a cover letter under applications/{email}/.
    if (index === 1 || random.chance(0.15)) {
      const jobTitle = random.pick(JOB_TITLES);
      const lastModified = new Date(ago(THREE_YEARS_MS, DAY_MS));
      recruitment.push(
        {
          key: `applications/${subject.email}/cv.pdf`,
          body: fakePdf(subject.name, subject.email, jobTitle),
          contentType: 'application/pdf',
          lastModified,
        },
        {
          key: `applications/${subject.email}/cover-letter.txt`,
          body: `Dear hiring team,\n\nI would like to apply for the ${jobTitle} position. I have followed Example Ads for a while and would love to help build it.\n\nKind regards,\n${subject.name}\n${subject.email}\n${draft.formattedPhone}\n`,
          contentType: 'text/plain; charset=utf-8',
          lastModified,
        },
      );
      owns.recruitment = 2;
    }

    // Clickstream: recordsPerSubject lines, dated later when the log days are known.
    for (let n = 0; n < records; n += 1) {
      const cookieIndex = random.int(0, subject.cookieIds.length - 1);
      const cookieId = subject.cookieIds[cookieIndex]!;
      const campaign = random.pick(campaigns);
      clickLines.push({
        ts: 0,
        line: {
          ts: '',
          cookieId: random.chance(0.1) ? cookieId.toUpperCase() : cookieId,
          ip: subject.ip,
          url: `${random.pick(LANDING_PAGES)}${random.int(1000, 99_999)}?utm_campaign=${campaign.campaignId}`,
          campaignId: campaign.campaignId,
          userAgent: devices[cookieIndex]!.userAgent,
        },
      });
    }
    owns.clickstream = records;
  });

  // At least one UPPERCASE cookie id in the clickstream, however small the seed.
  const firstLine = clickLines[0];
  if (firstLine && !clickLines.some(({ line }) => /[A-F]/.test(String(line.cookieId)))) {
    firstLine.line.cookieId = String(firstLine.line.cookieId).toUpperCase();
  }

  // Anonymous cookies: clicks of people nobody asked about, some behind the subjects' NATs.
  const subjectLines = clickLines.length;
  const anonymousLines = subjectLines === 0 ? 0 : Math.ceil(subjectLines / 4) + 5;
  const anonymousCookieIds = Array.from(
    { length: anonymousLines === 0 ? 0 : Math.max(5, Math.ceil(options.subjects / 2)) },
    () => uniqueId(() => random.uuid()),
  );
  for (let n = 0; n < anonymousLines; n += 1) {
    const campaign = random.pick(campaigns);
    clickLines.push({
      ts: 0,
      line: {
        ts: '',
        cookieId: random.pick(anonymousCookieIds),
        ip: random.chance(0.3) ? natIp(random.int(0, natCount - 1)) : `192.0.2.${random.int(1, 254)}`,
        url: `${random.pick(LANDING_PAGES)}${random.int(1000, 99_999)}?utm_campaign=${campaign.campaignId}`,
        campaignId: campaign.campaignId,
        userAgent: random.pick(USER_AGENTS),
      },
    });
  }

  // Log days: about CLICK_LINES_PER_FILE lines a day, so every file mixes many subjects. The
  // first day is within the last month (fresh under P90D), the others spread over three years.
  const dayCount =
    clickLines.length === 0
      ? 0
      : Math.min(1095, Math.max(3, Math.ceil(clickLines.length / CLICK_LINES_PER_FILE)));
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const dayOffsets: number[] = [];
  for (let j = 0; j < dayCount; j += 1) {
    const low = 1 + Math.floor((j * 1094) / dayCount);
    const high = Math.max(low, Math.floor(((j + 1) * 1094) / dayCount));
    dayOffsets.push(j === 0 ? random.int(1, 30) : random.int(low, high));
  }
  const linesByDay = new Map<number, ClickLine[]>();
  for (const click of clickLines) {
    const dayStart = today - random.pick(dayOffsets) * DAY_MS;
    click.ts = dayStart + random.int(0, DAY_MS - 1);
    click.line.ts = new Date(click.ts).toISOString();
    const day = linesByDay.get(dayStart);
    if (day) day.push(click);
    else linesByDay.set(dayStart, [click]);
  }
  const clickstream: SeedObject[] = [];
  for (const dayStart of [...linesByDay.keys()].sort((a, b) => a - b)) {
    const day = linesByDay.get(dayStart)!.sort((a, b) => a.ts - b.ts);
    const date = new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '/');
    // Files are rotated at midnight and uploaded a few minutes later.
    const lastModified = new Date(Math.min(nowMs, dayStart + DAY_MS + 5 * 60_000));
    // A busy day is split evenly, so no part holds only a handful of lines.
    const parts = Math.ceil(day.length / CLICK_LINES_PER_FILE);
    const perPart = Math.ceil(day.length / parts);
    for (let part = 0; part < parts; part += 1) {
      const lines = day.slice(part * perPart, (part + 1) * perPart);
      clickstream.push({
        key: `clicks/${date}/part-${String(part).padStart(4, '0')}.jsonl`,
        body: `${lines.map(({ line }) => JSON.stringify(line)).join('\n')}\n`,
        contentType: 'application/x-ndjson',
        lastModified,
      });
    }
  }

  // Bid logs: half as many bids as clicks per subject, and anonymous ones, from a PRNG of their
  // own so adding them left every other store's data as it was.
  const bidRandom = new Random(seed * 7919 + 17);
  const bids: Parameters<typeof bidLogObjects>[0] = [];
  drafts.forEach(({ subject, devices }) => {
    const count = records === 0 ? 0 : Math.max(1, Math.ceil(records / 2));
    for (let n = 0; n < count; n += 1) {
      const cookieIndex = bidRandom.int(0, subject.cookieIds.length - 1);
      bids.push({
        bidder: {
          cookieId: subject.cookieIds[cookieIndex]!,
          ip: subject.ip,
          userAgent: devices[cookieIndex]!.userAgent,
        },
        campaignId: bidRandom.pick(campaigns).campaignId,
      });
    }
    subject.owns['bid-logs'] = count;
  });
  const anonymousBids =
    bids.length === 0 || anonymousCookieIds.length === 0 ? 0 : Math.ceil(bids.length / 4) + 5;
  for (let n = 0; n < anonymousBids; n += 1) {
    bids.push({
      bidder: {
        cookieId: bidRandom.pick(anonymousCookieIds),
        ip: `198.51.100.${bidRandom.int(1, 254)}`,
        userAgent: bidRandom.pick(USER_AGENTS),
      },
      campaignId: bidRandom.pick(campaigns).campaignId,
    });
  }

  return {
    seed,
    now,
    subjects,
    dynamodb: {
      inquiries,
      'ad-events': adEvents,
      conversions,
      'partner-contacts': partnerContacts,
    },
    s3: {
      'call-recordings': callRecordings,
      recruitment,
      clickstream,
      'bid-logs': bidLogObjects(bids, bidRandom, nowMs),
    },
    anonymous: { cookieIds: anonymousCookieIds, clickstreamLines: anonymousLines, bidRows: anonymousBids },
  };
}

export interface SeedFiles {
  /** `dir/<storeId>.jsonl` per DynamoDB store. */
  dynamodb: Record<string, string>;
  /** `dir/<storeId>/` per S3 store. */
  s3: Record<string, string>;
  /** Files written in all. */
  files: number;
}

/**
 * Writes a seed as files an import reads: `dir/<storeId>.jsonl` (one DynamoDB item as JSON per
 * line) per DynamoDB store, and `dir/<storeId>/<key>` per S3 object, its mtime set to the
 * object's lastModified. Each S3 store's folder is replaced, so no object of an earlier seed stays.
 * @throws Error when an object key would leave its store's folder
 */
export function writeSeedFiles(seed: AdtechSeed, dir: string): SeedFiles {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const result: SeedFiles = { dynamodb: {}, s3: {}, files: 0 };
  for (const [storeId, items] of Object.entries(seed.dynamodb)) {
    const file = join(root, `${storeId}.jsonl`);
    writeFileSync(file, items.map((item) => `${JSON.stringify(item)}\n`).join(''));
    result.dynamodb[storeId] = file;
    result.files += 1;
  }
  for (const [storeId, objects] of Object.entries(seed.s3)) {
    const storeDir = join(root, storeId);
    rmSync(storeDir, { recursive: true, force: true });
    mkdirSync(storeDir, { recursive: true });
    const made = new Set<string>([storeDir]);
    for (const object of objects) {
      const file = resolve(storeDir, ...object.key.split('/'));
      if (!file.startsWith(`${storeDir}${sep}`)) {
        throw new Error(`object key of store ${storeId} leaves the store folder: ${object.key}`);
      }
      const folder = dirname(file);
      if (!made.has(folder)) {
        mkdirSync(folder, { recursive: true });
        made.add(folder);
      }
      writeFileSync(file, object.body);
      utimesSync(file, object.lastModified, object.lastModified);
      result.files += 1;
    }
    result.s3[storeId] = storeDir;
  }
  return result;
}

function main(argv: string[]): void {
  const value = (flag: string, fallback: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : fallback;
  };
  const started = Date.now();
  const seed = generateAdtechSeed({
    subjects: Number(value('--subjects', '100')),
    recordsPerSubject: Number(value('--records', '10')),
    seed: Number(value('--seed', '1')),
  });
  const out = value('--out', join(__dirname, 'seed'));
  const written = writeSeedFiles(seed, out);
  process.stdout.write(
    `${seed.subjects.length} subjects, ${written.files} files in ${out} (${Date.now() - started} ms)\n`,
  );
}

if (require.main === module) main(process.argv.slice(2));
