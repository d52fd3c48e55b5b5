import { Eta } from 'eta';
import type { DataMap } from '../datamap/schema';
import { buildInventory } from '../rights/inventory';
import { CONSOLE_CSS, TEMPLATES } from './templates';

/** The template engine with every console template loaded; `<%= %>` escapes every value. */
export function createViews(): Eta {
  const eta = new Eta({ autoEscape: true, useWith: false, cache: true });
  for (const [name, template] of Object.entries(TEMPLATES)) eta.loadTemplate(name, template);
  return eta;
}

/**
 * The record of processing activities of `dataMap` as a standalone, printable HTML document:
 * what `lethe datamap report --format html` writes and the console's inventory page downloads.
 */
export function renderInventoryDocument(
  dataMap: DataMap,
  generatedAt: Date,
  views: Eta = createViews(),
): string {
  return views.render('@inventory-document', {
    inventory: buildInventory(dataMap),
    generatedAt: generatedAt.toISOString(),
    css: CONSOLE_CSS,
  });
}
