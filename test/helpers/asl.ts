import type { AslObject } from '../../lib/local/definitions';

/** Walking a synthesized state machine definition, for the infra tests. */

export type State = AslObject & {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  TimeoutSeconds?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  MaxConcurrency?: number;
};

/** Every state, with the Map it is nested in (if any). */
export function statesOf(
  definition: AslObject,
  parent?: string,
): { name: string; state: State; parent?: string }[] {
  return Object.entries(definition.States as Record<string, State>).flatMap(([name, state]) => [
    { name, state, ...(parent ? { parent } : {}) },
    ...(state.Type === 'Map' ? statesOf((state.ItemProcessor ?? state.Iterator) as AslObject, name) : []),
  ]);
}

/** The names of the top-level states reachable from `start` by Next, Default, Choices and Catch. */
export function reachable(definition: AslObject, start: string): Set<string> {
  const states = definition.States as Record<string, State>;
  const seen = new Set<string>();
  const visit = (name: string | undefined) => {
    if (!name || seen.has(name)) return;
    seen.add(name);
    const state = states[name];
    visit(state?.Next);
    visit(state?.Default);
    for (const choice of state?.Choices ?? []) visit(choice.Next);
    for (const handler of state?.Catch ?? []) visit(handler.Next);
  };
  visit(start);
  return seen;
}

/** asl-validator (it ships no types): a definition in, the verdict and its errors out. */
export const validateAsl = require('asl-validator') as (definition: AslObject) => {
  isValid: boolean;
  errors: { message?: string; path?: string }[];
};
