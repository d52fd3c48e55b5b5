import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Page } from 'playwright-core';
import { LocalBackend } from '../../lib/cli/backends';
import { type RunningConsole, startConsole } from '../../lib/console/server';
import { seedStateDir } from './cli';
import { exampleSeed } from './world';

/** A seeded state directory, its local backend and the console over it on a free loopback port. */
export async function startSeededConsole(
  stateDir: string,
  subjects = 6,
): Promise<{
  backend: LocalBackend;
  console: RunningConsole;
  seed: ReturnType<typeof exampleSeed>;
}> {
  const seed = exampleSeed(subjects, 2);
  await seedStateDir(stateDir, seed);
  const backend = await LocalBackend.open({ stateDir });
  const running = await startConsole({ backend, target: 'local', port: 0 });
  return { backend, console: running, seed };
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page and returns its serious and critical violations (rule id and the
 * first target of each). Evaluated through the DevTools protocol, which the page's CSP does not
 * govern: the console itself serves no script.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      target: JSON.stringify(violation.nodes[0]?.target ?? []),
    }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} ${violation.target}`);
}

/** An answer as the security tests read it. */
export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request over a real socket with headers a browser would never let a page set (Host,
 * Origin): what an attacker's own client can send.
 */
export function httpRequest(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            statusCode: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
