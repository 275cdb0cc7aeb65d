// SVG plots with vega-lite (compiled to a vega spec) rendered headless by vega: no browser, no canvas.

import { FleetResult, TraceResult } from '../../src/fleet/summary';

// The few entry points used, typed here: vega-lite's own types only resolve under node16 module resolution.
interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}
interface VegaModule {
  parse(spec: object): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => VegaView;
}
interface VegaLiteModule {
  compile(spec: object): { spec: object };
}

// vega and vega-lite are ES modules only; a CommonJS build would turn import() into require(), which cannot load them.
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function renderSvg(spec: object): Promise<string> {
  const vega = await importEsm('vega') as VegaModule;
  const vegaLite = await importEsm('vega-lite') as VegaLiteModule;
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export interface LoadLine {
  name: string;
  atS: number[];
  perS: number[];
}

export interface LoadPlotOptions {
  title: string;
  yTitle: string;
  /** Only this window of the run, in hours from its start. */
  fromH: number;
  toH: number;
}

/** The per-bucket peak load of each run, as lines for loadChartSpec. */
export function peakLines(results: FleetResult[]): LoadLine[] {
  return results.map((r) => ({ name: r.policy, atS: r.loadSeries.atS, perS: r.loadSeries.maxPerS }));
}

/** Server load over time, several lines on one chart, log scale. */
export function loadChartSpec(lines: LoadLine[], options: LoadPlotOptions): object {
  const values: { hours: number; perS: number; line: string }[] = [];
  for (const line of lines) {
    for (let k = 0; k < line.atS.length; k++) {
      const hours = line.atS[k] / 3600;
      if (hours < options.fromH || hours > options.toH) continue;
      // A log scale has no zero: an idle bucket is drawn at the floor of the axis.
      values.push({ hours: hours, perS: Math.max(line.perS[k], 0.1), line: line.name });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: 720,
    height: 320,
    data: { values: values },
    mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after' },
    encoding: {
      x: { field: 'hours', type: 'quantitative', title: 'virtual time (hours)' },
      y: { field: 'perS', type: 'quantitative', scale: { type: 'log', domainMin: 0.1 }, title: options.yTitle },
      color: { field: 'line', type: 'nominal', title: '' },
    },
  };
}

/** The share of devices within the accuracy target over time, one line per run. */
export function accuracyChartSpec(results: FleetResult[], title: string): object {
  const values: { hours: number; share: number; policy: string }[] = [];
  for (const r of results) {
    const a = r.accuracySeries;
    for (let k = 0; k < a.atS.length; k++) {
      if (a.withinShare[k] === a.withinShare[k] && a.withinShare[k] !== null) values.push({ hours: a.atS[k] / 3600, share: a.withinShare[k] * 100, policy: r.policy });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: title,
    width: 720,
    height: 260,
    data: { values: values },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'hours', type: 'quantitative', title: 'virtual time (hours)' },
      y: { field: 'share', type: 'quantitative', title: '% of powered devices within target', scale: { domain: [0, 100] } },
      color: { field: 'policy', type: 'nominal', title: 'client' },
    },
  };
}

export interface TracePlotOptions {
  title: string;
  /** Only this window of the run, in hours from its start. */
  fromH: number;
  toH: number;
  targetS: number;
  /** A name for each device's panel, e.g. "device 12 (crystal +37 ppm)". */
  label: (device: number) => string;
}

/**
 * True error of a few devices' corrected time against time, one panel per device, with the error bound their client
 * reported (as ±bound) where it reported one, and the accuracy target. A client that reports no bound gets no bound
 * series, and the panels say so in the legend.
 */
export function traceChartSpec(trace: TraceResult, options: TracePlotOptions): object {
  const values: { hours: number; ms: number; series: string; device: string }[] = [];
  const targetMs = options.targetS * 1000;
  let bounds = 0;
  for (const d of trace.devices) {
    const device = options.label(d.device);
    for (let k = 0; k < trace.atS.length; k++) {
      const hours = trace.atS[k] / 3600;
      const e = d.errorS[k];
      if (hours < options.fromH || hours > options.toH || e === null) continue;
      values.push({ hours: hours, ms: e * 1000, series: 'true error', device: device });
    }
    for (const b of d.bounds) {
      const hours = b.atS / 3600;
      if (hours < options.fromH || hours > options.toH) continue;
      bounds++;
      values.push({ hours: hours, ms: b.boundS * 1000, series: '+ reported bound', device: device });
      values.push({ hours: hours, ms: -b.boundS * 1000, series: '- reported bound', device: device });
    }
    for (const sign of [1, -1]) {
      for (const hours of [options.fromH, options.toH]) values.push({ hours: hours, ms: sign * targetMs, series: (sign > 0 ? '+' : '-') + ' target', device: device });
    }
  }
  const series = ['true error', '+ reported bound', '- reported bound', '+ target', '- target'];
  const colours = ['#1f77b4', '#d62728', '#d62728', '#999999', '#999999'];
  // The legend lists only what is drawn.
  const shown = series.map((name, k) => ({ name: name, colour: colours[k] })).filter((x) => bounds > 0 || x.name.indexOf('bound') < 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title, subtitle: bounds > 0 ? 'red: the error bound the client reported at each sample' : 'the client reports no error bound, so none is drawn' },
    data: { values: values },
    facet: { row: { field: 'device', type: 'nominal', title: null } },
    spec: {
      width: 720,
      height: 130,
      encoding: {
        x: { field: 'hours', type: 'quantitative', title: 'virtual time (hours)', scale: { domain: [options.fromH, options.toH] } },
        y: { field: 'ms', type: 'quantitative', title: 'error (ms)' },
        color: { field: 'series', type: 'nominal', title: '', scale: { domain: shown.map((x) => x.name), range: shown.map((x) => x.colour) } },
      },
      layer: [
        // The bound is known at the samples that reported it: points, not a line that would invent it in between.
        { transform: [{ filter: { field: 'series', oneOf: series.slice(1, 3) } }], mark: { type: 'point', size: 12, filled: true } },
        { transform: [{ filter: { field: 'series', oneOf: [series[0]] } }], mark: { type: 'line', strokeWidth: 1 } },
        { transform: [{ filter: { field: 'series', oneOf: [series[3], series[4]] } }], mark: { type: 'line', strokeWidth: 1, strokeDash: [2, 2] } },
      ],
    },
  };
}
