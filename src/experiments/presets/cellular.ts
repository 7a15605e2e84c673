/**
 * How every preset runs: as independent cells (docs/math.md §5, docs/architecture.md §8). A preset is
 * defined once as a CellularPreset — its cells at a scale, how to run one cell on the GPU, and how
 * to summarize every cell's raw result — and definePreset turns that into the one Preset interface
 * the page and the CLI use. So every preset supports `--shard i/n` (a share of the cells),
 * `--resume` (skip cells with a stored result) and `merge` (summarize the cells of several shard
 * folders) the same way, and `run()` is by construction what a merge of shards computes:
 *
 *   run(scale) = summarize(scale, cells(scale).map(cell → decode(encode(runCell(cell)))))
 *
 * Cell results cross a JSON boundary (page → Node → cells/<id>/result.json → page), encoded
 * losslessly by cellJson.ts; run() sends them through the same encoding, so a preset whose result
 * JSON cannot hold exactly fails in its own tests.
 */
import type { Gpu } from '../../gpu/device';
import { decodeCellResult, encodeCellResult, type JsonObject } from './cellJson';
import { resultsInOrder, type PresetCell, type PresetCellResult, type PresetInfo, type PresetReport, type Scale } from './types';

/** One finished cell as summarize() gets it: the cell and its raw result, typed. */
export interface CellOutcome<Params extends Record<string, unknown>, Result> {
  cell: PresetCell<Params>;
  result: Result;
  elapsedMs: number;
}

/**
 * A preset's definition. `Params` is what a cell says about its share of the work (plain JSON: it
 * is stored in preset.json), `Result` is one cell's raw result (plain JSON data: numbers, strings,
 * booleans, null, arrays, plain objects), `Measurement` the type of the report's raw measurements.
 *
 * @example
 * export const myPreset = definePreset<{ d: number }, { capacity: number }, { d: number; capacity: number }>({
 *   ...presetInfo(myPlan),
 *   cells: myPlan.cells,
 *   runCell: async (gpu, scale, cell) => ({ capacity: await measureCapacity(gpu, cell.params.d) }),
 *   summarize: (scale, results) => presetReport({ …, measurements: results.map((r) => ({ d: r.cell.params.d, capacity: r.result.capacity })) }),
 * });
 */
export interface CellularPreset<
  Params extends Record<string, unknown>,
  Result,
  Measurement extends Record<string, unknown> = Record<string, unknown>,
> extends PresetInfo {
  /** The scale's independent cells, in the order a single run visits them (ids unique per scale). */
  cells(scale: Scale): PresetCell<Params>[];
  runCell(gpu: Gpu, scale: Scale, cell: PresetCell<Params>, progress: (message: string) => void): Promise<Result>;
  /** The report from every cell's raw result, given in cells() order. */
  summarize(scale: Scale, results: readonly CellOutcome<Params, Result>[]): PresetReport<Measurement>;
}

/**
 * A preset as the page and the CLI use it (whatever its parameter and result types): cells as JSON,
 * results as their stored JSON. Made by definePreset.
 */
export interface Preset<Measurement extends Record<string, unknown> = Record<string, unknown>> extends PresetInfo {
  cells(scale: Scale): PresetCell[];
  /** Every cell, one after another, then the report (each result through its stored form). */
  run(gpu: Gpu, scale: Scale, progress: (message: string) => void): Promise<PresetReport<Measurement>>;
  /** One cell (by id) and its raw result in its stored form (cells/<id>/result.json). */
  runCell(gpu: Gpu, scale: Scale, cellId: string, progress: (message: string) => void): Promise<JsonObject>;
  /** The report from stored results, any order; throws naming the cells of the scale that have none. */
  summarize(scale: Scale, results: readonly PresetCellResult[]): PresetReport<Measurement>;
}

/**
 * The Preset of a definition.
 *
 * @example
 * export const bBalanceOnestep = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell, summarize });
 * const report = await bBalanceOnestep.run(gpu, 'ci', console.log);
 */
export function definePreset<Params extends Record<string, unknown>, Result, Measurement extends Record<string, unknown>>(
  definition: CellularPreset<Params, Result, Measurement>,
): Preset<Measurement> {
  const { name } = definition;
  const cellById = (scale: Scale, id: string): PresetCell<Params> => {
    const cells = definition.cells(scale);
    const cell = cells.find((c) => c.id === id);
    if (!cell)
      throw new RangeError(
        `${name}: no cell "${id}" at scale ${scale} (cells: ${cells
          .map((c) => c.id)
          .slice(0, 8)
          .join(', ')}${cells.length > 8 ? ', …' : ''})`,
      );
    return cell;
  };
  const runCell = async (gpu: Gpu, scale: Scale, cellId: string, progress: (message: string) => void): Promise<JsonObject> => {
    const cell = cellById(scale, cellId);
    return encodeCellResult(await definition.runCell(gpu, scale, cell, progress), `${name} (${scale}) cell ${cell.id}`);
  };
  const summarize = (scale: Scale, stored: readonly PresetCellResult[]): PresetReport<Measurement> => {
    // The cells' own definitions (not the stored copies) with each stored result: preset.json
    // ties a folder to these cells (harness/presetRun.ts ensurePresetManifest), so the stored
    // results are what this preset's runCell wrote — their type is the preset's Result.
    const results = resultsInOrder(definition.cells(scale), stored, name).map((s) => ({
      cell: cellById(scale, s.cell.id),
      result: decodeCellResult(s.result) as Result,
      elapsedMs: s.elapsedMs,
    }));
    return definition.summarize(scale, results);
  };
  return {
    name,
    title: definition.title,
    paper: definition.paper,
    predictions: definition.predictions,
    scales: definition.scales,
    cells: (scale) => definition.cells(scale),
    runCell,
    summarize,
    async run(gpu, scale, progress) {
      const stored: PresetCellResult[] = [];
      for (const cell of definition.cells(scale)) {
        const started = performance.now();
        // Through JSON text, as a result written to result.json and read back.
        const result: JsonObject = JSON.parse(JSON.stringify(await runCell(gpu, scale, cell.id, progress)));
        stored.push({ cell, result, elapsedMs: performance.now() - started });
      }
      return summarize(scale, stored);
    },
  };
}
