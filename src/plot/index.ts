// Figures for the spec and the bench: vega-lite specs rendered to SVG in Node.
export { BASE_CONFIG, renderSvg, writeSvg } from './render.js';
export { heatmapSvg, intervalPlotSvg, linePlotSvg, withCI, type HeatmapOptions, type IntervalRow, type LinePlotOptions, type LineSeries } from './charts.js';
